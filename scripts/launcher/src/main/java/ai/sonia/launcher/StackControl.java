package ai.sonia.launcher;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import ai.sonia.runtime.OwnerOnlyFiles;
import ai.sonia.runtime.ServiceModule;
import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.StartupErrors;
import ai.sonia.runtime.store.Sqlite;

/**
 * The operator's requests to a running stack JVM, as files in its control directory {@code run/control}
 * (whoever may write the run directory may also kill the process, so a file asks no more trust than a signal
 * would). Every JVM of the stack polls the same directory ({@code scripts/sonia up --separate} runs six), so a
 * JVM handles only the services it runs and leaves every other request for the JVM that runs it.
 * <ul>
 *   <li>{@code restart-<service>}: {@code scripts/sonia restart <service>} in the one-JVM mode. The service's
 *       server stops gracefully, its stores close, and a new server over the same data starts on its port;
 *       the answer {@code restart-<service>.done} holds {@code ok} or why the service did not come back.</li>
 *   <li>{@code snapshot-<id>}: a backup of a running stack ({@link StackBackup}). Every service opens its
 *       SQLite files through the {@code unix-excl} VFS ({@link Sqlite}), which keeps them locked against every
 *       other process, so the copies are taken here, inside the process that holds the lock: the request (JSON)
 *       names a staging directory under the home and, per service, its databases; the JVM running a service
 *       writes {@code VACUUM INTO} copies of them there and answers {@code snapshot-<id>.<service>.done}
 *       with {@code ok} or the reason. The request stays until the backup removes it, since other JVMs may
 *       still have services to answer for.</li>
 * </ul>
 */
final class StackControl implements Runnable {

    private static final Logger logger = LoggerFactory.getLogger(StackControl.class);
    private static final ObjectMapper mapper = new ObjectMapper();
    private static final String RESTART = "restart-";
    private static final String SNAPSHOT = "snapshot-";
    private static final String DONE = ".done";
    private static final long POLL_MS = 100;

    private final Path dir;
    private final StackConfig config;
    private final Set<String> services;
    private final Map<String, ServiceModule> modules;
    private final Map<String, SoniaServer> servers;
    /** Snapshot requests (id.service) this JVM answered: the request itself stays for the other JVMs. */
    private final Set<String> answered = new HashSet<>();

    /** Watches {@code dir} for requests about {@code services}, the ones this JVM runs. */
    StackControl(Path dir, StackConfig config, Set<String> services, Map<String, ServiceModule> modules,
                 Map<String, SoniaServer> servers) {
        this.dir = dir;
        this.config = config;
        this.services = Set.copyOf(services);
        this.modules = modules;
        this.servers = servers;
    }

    @Override
    public void run() {
        MDC.put("service", "sonia");
        try {
            OwnerOnlyFiles.directory(dir);
        } catch (java.io.UncheckedIOException e) {
            logger.warn("No stack control: cannot create {}", dir, e);
            return;
        }
        while (!Thread.currentThread().isInterrupted()) {
            try {
                pollOnce();
                Thread.sleep(POLL_MS);
            } catch (InterruptedException e) {
                return;
            } catch (IOException e) {
                logger.warn("Stack control failed to read {}", dir, e);
            }
        }
    }

    /** Handles every request present now that concerns this JVM's services. */
    void pollOnce() throws IOException {
        final List<Path> requests = new ArrayList<>();
        try (DirectoryStream<Path> listing = Files.newDirectoryStream(dir)) {
            listing.forEach(requests::add);
        }
        for (Path request : requests) {
            final String name = request.getFileName().toString();
            if (name.endsWith(DONE)) {
                continue;
            }
            if (name.startsWith(RESTART) && services.contains(name.substring(RESTART.length()))) {
                final String service = name.substring(RESTART.length());
                if (Files.deleteIfExists(request)) {
                    answer(dir.resolve(name + DONE), restart(service));
                }
            } else if (name.startsWith(SNAPSHOT) && name.indexOf('.') < 0) {
                snapshot(request, name.substring(SNAPSHOT.length()));
            }
        }
    }

    /** Restarts one service; returns "ok" or the reason it did not come back. */
    String restart(String name) {
        final ServiceModule module = modules.get(name);
        if (module == null || !services.contains(name)) {
            return "not running in this JVM: " + name;
        }
        try (MDC.MDCCloseable ignored = MDC.putCloseable("service", name)) {
            final long start = System.nanoTime();
            final SoniaServer old = servers.remove(name);
            if (old != null) { // null after a restart that failed: start it again
                old.close();
            }
            final SoniaServer server = module.newServer(config).start();
            servers.put(name, server);
            logger.atInfo().addKeyValue("restart_ms", (System.nanoTime() - start) / 1_000_000)
                  .log("{} restarted", name);
            return "ok";
        } catch (Exception e) {
            logger.error("{} did not restart: {}", name, StartupErrors.describe(e), e);
            return "failed: " + StartupErrors.describe(e);
        }
    }

    private void snapshot(Path request, String id) throws IOException {
        final JsonNode body;
        try {
            body = mapper.readTree(Files.readString(request));
        } catch (java.nio.file.NoSuchFileException e) {
            return; // the backup finished (or gave up) meanwhile
        } catch (IOException e) {
            logger.warn("Ignoring the unreadable snapshot request {}: {}", request, e.getMessage());
            answered.add(id);
            return;
        }
        final JsonNode databases = body.path("databases");
        for (String service : services) {
            final String key = id + '.' + service;
            if (!databases.has(service) || answered.contains(key)) {
                continue;
            }
            answered.add(key);
            final Path done = dir.resolve(SNAPSHOT + key + DONE);
            if (Files.exists(done)) {
                continue;
            }
            final List<String> files = new ArrayList<>();
            databases.get(service).forEach(f -> files.add(f.asText()));
            try (MDC.MDCCloseable ignored = MDC.putCloseable("service", service)) {
                answer(done, snapshot(service, body.path("target").asText(), files));
            }
        }
    }

    /** Copies one service's databases into the backup's staging directory; returns "ok" or the reason. */
    String snapshot(String service, String target, List<String> files) {
        final Path home = config.home().toAbsolutePath().normalize();
        final Path staging = Path.of(target).toAbsolutePath().normalize();
        if (!home.equals(staging.getParent()) || !staging.getFileName().toString().startsWith(".backup-")
            || !Files.isDirectory(staging)) {
            return "refused: the target " + target + " is not a backup's staging directory under " + home;
        }
        final Path data = home.resolve("data").resolve(service);
        final long start = System.nanoTime();
        for (String file : files) {
            final Path live = home.resolve(file).normalize();
            if (!live.startsWith(data) || !Files.isRegularFile(live)) {
                return "refused: " + file + " is not a database of " + service;
            }
            final Path copy = staging.resolve(home.relativize(live));
            // A second connection in the process holding the lock; VACUUM INTO reads the write-ahead log too.
            try (Connection connection = Sqlite.open(live); Statement statement = connection.createStatement()) {
                Files.createDirectories(copy.getParent());
                statement.execute("VACUUM INTO '" + copy.toString().replace("'", "''") + "'");
            } catch (SQLException | IOException e) {
                logger.error("Snapshot of {} failed: {}", live, e.getMessage());
                return "failed: " + file + ": " + e.getMessage();
            }
        }
        logger.atInfo().addKeyValue("databases", files.size())
              .addKeyValue("snapshot_ms", (System.nanoTime() - start) / 1_000_000)
              .log("{}: snapshot for a backup written", service);
        return "ok";
    }

    /** Writes an answer whole (a reader never sees half of it). */
    private static void answer(Path done, String text) throws IOException {
        final Path temp = OwnerOnlyFiles.file(done.resolveSibling("." + done.getFileName() + ".tmp"));
        Files.writeString(temp, text + "\n");
        Files.move(temp, done, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /**
     * The backup's side: asks the JVMs running {@code databases}' services for copies in {@code staging} and
     * waits for every answer; throws naming each service that failed or did not answer within {@code timeout}.
     */
    static void requestSnapshots(Path dir, Path staging, Map<String, List<String>> databases, Duration timeout)
            throws IOException {
        OwnerOnlyFiles.directory(dir);
        final String id = UUID.randomUUID().toString().replace("-", "");
        final ObjectNode body = mapper.createObjectNode().put("target", staging.toAbsolutePath().toString());
        final ObjectNode perService = body.putObject("databases");
        databases.forEach((service, files) -> files.forEach(perService.withArray(service)::add));
        final Path request = dir.resolve(SNAPSHOT + id);
        final Path temp = OwnerOnlyFiles.file(dir.resolve("." + SNAPSHOT + id + ".tmp"));
        Files.writeString(temp, mapper.writeValueAsString(body));
        Files.move(temp, request, StandardCopyOption.ATOMIC_MOVE);
        final Map<String, String> answers = new LinkedHashMap<>();
        final long deadline = System.nanoTime() + timeout.toNanos();
        try {
            while (answers.size() < databases.size() && System.nanoTime() < deadline) {
                for (String service : databases.keySet()) {
                    final Path done = dir.resolve(SNAPSHOT + id + '.' + service + DONE);
                    if (!answers.containsKey(service) && Files.exists(done)) {
                        answers.put(service, Files.readString(done).trim());
                    }
                }
                Thread.sleep(20);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the services' snapshots", e);
        } finally {
            Files.deleteIfExists(request);
            for (String service : databases.keySet()) {
                Files.deleteIfExists(dir.resolve(SNAPSHOT + id + '.' + service + DONE));
            }
        }
        final List<String> problems = new ArrayList<>();
        for (String service : databases.keySet()) {
            final String answer = answers.get(service);
            if (answer == null) {
                problems.add(service + " listens but did not answer the snapshot request within "
                             + timeout.toSeconds() + " s (is it a Sonia stack of this home, with " + dir
                             + "? see its log)");
            } else if (!"ok".equals(answer)) {
                problems.add(service + ": " + answer);
            }
        }
        if (!problems.isEmpty()) {
            throw new IllegalStateException(String.join("; ", problems));
        }
    }
}
