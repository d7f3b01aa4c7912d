package ai.sonia.launcher;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import ai.sonia.runtime.ServiceSpec;
import ai.sonia.runtime.Stack;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.auth.Secrets;

/**
 * One archive of every service's state, and its restore.
 *
 * <p>{@code backup} takes an online copy of every SQLite database under {@code $SONIA_HOME/data} (accounts and
 * sessions, approvals, the router's ledger, the tool audit, pipecat's sessions, the memory ledger...) with
 * {@code VACUUM INTO}: a consistent snapshot that includes what is still in the write-ahead log, taken while the
 * stack runs and without stopping its writers. A running service keeps its databases locked against every other
 * process, so the copies of its databases are made by its own JVM on request ({@link StackControl}, through
 * {@code run/control}; one JVM or six); the backup waits for every listening service's answer and names any
 * that fails or stays silent. The databases of services that are not running are copied here. The other files under {@code data/} (the tool workspace) are
 * copied as they are, and the config file is added; secrets ({@code $SONIA_HOME/secrets}: signing keys, the TLS
 * CA, the first admin password) only when asked. The archive is a zip, owner-only, with a manifest
 * ({@code sonia-backup.json}) giving every file's SHA-256 and every table's row count.
 *
 * <p>{@code restore} checks the whole archive first (checksums, SQLite integrity checks) into a staging
 * directory, refuses while any service of the stack still listens, then moves the current {@code data/},
 * config and (if the archive has them) secrets aside as {@code *.before-restore-<time>} and puts the archive's
 * in place. Restoring into a running stack is stop, restore, start: {@code scripts/sonia restore} does that.
 */
final class StackBackup {

    static final String MANIFEST = "sonia-backup.json";
    private static final ObjectMapper mapper = new ObjectMapper();
    private static final DateTimeFormatter STAMP =
            DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);
    private static final byte[] SQLITE_HEADER = "SQLite format 3\0".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    /** Per service, the directories that are not state: scratch space and the memory-only backups. */
    private static final Set<String> SKIPPED_DIRS = Set.of("tmp", "backups");

    private final StackConfig config;
    private final Path home;

    private final Duration snapshotTimeout;

    StackBackup(StackConfig config) {
        this(config, Duration.ofSeconds(120));
    }

    /** {@code snapshotTimeout}: how long a running service may take to answer a snapshot request. */
    StackBackup(StackConfig config, Duration snapshotTimeout) {
        this.config = requireNonNull(config, "config");
        this.snapshotTimeout = requireNonNull(snapshotTimeout, "snapshotTimeout");
        home = config.home();
    }

    /** {@code backup [--out FILE] [--with-secrets]} or {@code restore FILE}; returns the exit code. */
    static int run(StackConfig config, List<String> args) {
        return new StackBackup(config).run(args);
    }

    int run(List<String> args) {
        try {
            if ("backup".equals(args.get(0))) {
                Path out = null;
                boolean withSecrets = false;
                for (int i = 1; i < args.size(); i++) {
                    switch (args.get(i)) {
                        case "--with-secrets" -> withSecrets = true;
                        case "--out" -> out = Path.of(args.get(++i));
                        default -> throw new IllegalArgumentException(
                                "backup: unknown option " + args.get(i) + " (expected --out FILE, --with-secrets)");
                    }
                }
                final Summary summary = backup(out, withSecrets);
                System.out.println("Backed up " + summary.describe() + " to " + summary.archive());
                return 0;
            }
            if (args.size() != 2) {
                throw new IllegalArgumentException("restore: expected the archive (restore FILE)");
            }
            final Summary summary = restore(Path.of(args.get(1)));
            System.out.println("Restored " + summary.describe() + " from " + summary.archive()
                               + "; what it replaced is in " + home + "/*.before-restore-*");
            return 0;
        } catch (IllegalArgumentException | IllegalStateException | UncheckedIOException e) {
            System.err.println("sonia: " + args.get(0) + " failed: " + e.getMessage());
            return 1;
        } catch (ArrayIndexOutOfBoundsException e) {
            System.err.println("sonia: " + args.get(0) + ": an option lacks its value");
            return 2;
        }
    }

    /** What an archive holds. */
    record Summary(Path archive, int databases, long rows, int files, boolean secrets) {
        String describe() {
            return databases + " databases (" + rows + " rows), " + files + " other files"
                   + (secrets ? ", with secrets" : ", without secrets");
        }
    }

    /** Writes the archive ({@code $SONIA_HOME/backups/sonia-<time>.zip} unless {@code out} is given). */
    Summary backup(Path out, boolean withSecrets) {
        final String stamp = STAMP.format(Instant.now());
        final Path archive = out != null ? out.toAbsolutePath() : home.resolve("backups").resolve("sonia-" + stamp + ".zip");
        final Path staging = home.resolve(".backup-" + stamp + ".tmp");
        try {
            if (Files.exists(archive)) {
                throw new FileAlreadyExistsException(archive + " exists");
            }
            Secrets.createOwnerOnlyDirectory(staging);
            Files.createDirectories(archive.toAbsolutePath().getParent());
            final ObjectNode manifest = mapper.createObjectNode();
            manifest.put("format", 1).put("created", Instant.now().toString()).put("with_secrets", withSecrets);
            final ArrayNode entries = manifest.putArray("files");
            int databases = 0;
            int files = 0;
            long rows = 0;
            final Path temp = Files.createTempFile(archive.getParent(), archive.getFileName() + ".", ".tmp",
                                                   PosixFilePermissions.asFileAttribute(
                                                           PosixFilePermissions.fromString("rw-------")));
            try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(temp))) {
                final List<Path> state = stateFiles();
                if (withSecrets) {
                    state.addAll(secretFiles());
                }
                final Set<Path> databaseFiles = snapshot(state, staging);
                for (Path file : state) {
                    final String name = home.relativize(file).toString();
                    final ObjectNode entry = entries.addObject().put("path", name);
                    Path source = file;
                    if (databaseFiles.contains(file)) {
                        source = staging.resolve(name);
                        final Map<String, Long> tables = rowCounts(source);
                        final ObjectNode counts = entry.put("sqlite", true).putObject("tables");
                        tables.forEach(counts::put);
                        rows += tables.values().stream().mapToLong(Long::longValue).sum();
                        databases++;
                    } else {
                        files++;
                    }
                    entry.put("sha256", add(zip, name, source)).put("bytes", Files.size(source));
                }
                zip.putNextEntry(new ZipEntry(MANIFEST));
                zip.write(mapper.writerWithDefaultPrettyPrinter().writeValueAsBytes(manifest));
                zip.closeEntry();
            } catch (IOException | RuntimeException e) {
                Files.deleteIfExists(temp);
                throw e;
            }
            Files.move(temp, archive, StandardCopyOption.ATOMIC_MOVE);
            return new Summary(archive, databases, rows, files, withSecrets);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + archive + ": " + e.getMessage(), e);
        } finally {
            deleteTree(staging);
        }
    }

    /**
     * Copies every SQLite database among {@code state} into {@code staging}; returns them. A running service
     * holds its databases locked against every other process ({@link ai.sonia.runtime.store.Sqlite}), so its
     * copies are taken by its own JVM ({@link StackControl}); the databases of services that do not listen are
     * copied here.
     */
    private Set<Path> snapshot(List<Path> state, Path staging) throws IOException {
        final Set<String> running = listeningServices().keySet();
        final Set<Path> databases = new java.util.LinkedHashSet<>();
        final Map<String, List<String>> remote = new LinkedHashMap<>();
        for (Path file : state) {
            if (!isSqlite(file)) {
                continue;
            }
            databases.add(file);
            final Path relative = home.resolve("data").relativize(file);
            final String service = relative.getNameCount() > 1 ? relative.getName(0).toString() : "";
            if (running.contains(service)) {
                remote.computeIfAbsent(service, s -> new ArrayList<>()).add(home.relativize(file).toString());
            }
        }
        if (!remote.isEmpty()) {
            StackControl.requestSnapshots(home.resolve("run").resolve("control"), staging, remote, snapshotTimeout);
        }
        for (Path file : databases) {
            final Path copy = staging.resolve(home.relativize(file));
            if (!Files.exists(copy)) {
                Files.createDirectories(copy.getParent());
                vacuumInto(file, copy);
            }
        }
        return databases;
    }

    /** Puts the archive's state in place of the current one; the stack must be stopped. */
    Summary restore(Path archive) {
        if (!Files.isRegularFile(archive)) {
            throw new IllegalArgumentException(archive + ": no such archive");
        }
        final String stamp = STAMP.format(Instant.now());
        final Path staging = home.resolve(".restore-" + stamp + ".tmp");
        try {
            Secrets.createOwnerOnlyDirectory(staging);
            final JsonNode manifest = unpack(archive, staging);
            int databases = 0;
            int files = 0;
            long rows = 0;
            boolean secrets = false;
            for (JsonNode entry : manifest.path("files")) {
                final Path file = staging.resolve(entry.get("path").asText());
                if (entry.path("sqlite").asBoolean()) {
                    final String problem = integrityProblem(file);
                    if (problem != null) {
                        throw new IllegalArgumentException(archive + ": " + entry.get("path").asText() + ": " + problem);
                    }
                    databases++;
                    rows += rowCounts(file).values().stream().mapToLong(Long::longValue).sum();
                } else {
                    files++;
                }
                secrets |= entry.get("path").asText().startsWith("secrets/");
            }
            final String running = listening();
            if (running != null) {
                throw new IllegalStateException(running + ": stop the stack first (scripts/sonia restore stops "
                                                + "and starts it for you)");
            }
            for (String part : List.of("data", "config", "secrets")) {
                final Path restored = staging.resolve(part);
                if (!Files.exists(restored)) {
                    continue; // an archive without secrets leaves the current ones
                }
                final Path current = home.resolve(part);
                if (Files.exists(current)) {
                    Files.move(current, home.resolve(part + ".before-restore-" + stamp));
                }
                Files.move(restored, current);
            }
            if (secrets) {
                Files.setPosixFilePermissions(home.resolve("secrets"), PosixFilePermissions.fromString("rwx------"));
            }
            return new Summary(archive, databases, rows, files, secrets);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot restore " + archive + ": " + e.getMessage(), e);
        } finally {
            deleteTree(staging);
        }
    }

    /** Every file to archive: data (less scratch and memory-only backups), config, secrets if asked. */
    private List<Path> stateFiles() throws IOException {
        final List<Path> files = new ArrayList<>();
        final Path data = home.resolve("data");
        if (Files.isDirectory(data)) {
            try (Stream<Path> walk = Files.walk(data)) {
                walk.filter(Files::isRegularFile)
                    .filter(f -> !isSidecar(f))
                    .filter(f -> {
                        final Path relative = data.relativize(f);
                        return relative.getNameCount() < 3 || !SKIPPED_DIRS.contains(relative.getName(1).toString());
                    })
                    .forEach(files::add);
            }
        }
        final Path configFile = configFile();
        if (Files.isRegularFile(configFile)) {
            files.add(configFile);
        }
        files.sort(Comparator.naturalOrder());
        return files;
    }

    private List<Path> secretFiles() throws IOException {
        final Path secrets = Secrets.directory(config);
        if (!Files.isDirectory(secrets)) {
            return List.of();
        }
        try (Stream<Path> walk = Files.walk(secrets)) {
            return walk.filter(Files::isRegularFile).filter(f -> !f.getFileName().toString().startsWith("."))
                       .sorted().toList();
        }
    }

    private Path configFile() {
        return home.resolve("config/sonia.json");
    }

    private static boolean isSidecar(Path file) {
        final String name = file.getFileName().toString();
        return name.endsWith("-wal") || name.endsWith("-shm") || name.endsWith("-journal");
    }

    static boolean isSqlite(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return java.util.Arrays.equals(in.readNBytes(SQLITE_HEADER.length), SQLITE_HEADER);
        }
    }

    /**
     * A consistent copy of a database no running service holds, write-ahead log included (the copies of a
     * running service's databases come from its own JVM: see {@link #snapshot}).
     */
    private static void vacuumInto(Path live, Path copy) {
        try (Connection connection = DriverManager.getConnection("jdbc:sqlite:" + live.toAbsolutePath());
             Statement statement = connection.createStatement()) {
            statement.execute("PRAGMA busy_timeout = 30000");
            statement.execute("VACUUM INTO '" + copy.toAbsolutePath().toString().replace("'", "''") + "'");
        } catch (SQLException e) {
            throw new IllegalStateException("cannot back up " + live + ": " + e.getMessage()
                                            + (e.getMessage() != null && e.getMessage().contains("locked")
                                               ? " (a process holds it: is a service starting or stopping?)" : ""), e);
        }
    }

    /** Every table's row count (FTS shadow tables included), by name. */
    static Map<String, Long> rowCounts(Path database) {
        final Map<String, Long> counts = new LinkedHashMap<>();
        try (Connection connection = DriverManager.getConnection("jdbc:sqlite:" + database.toAbsolutePath());
             Statement statement = connection.createStatement()) {
            final List<String> tables = new ArrayList<>();
            try (ResultSet rs = statement.executeQuery(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND sql NOT LIKE 'CREATE VIRTUAL%' ORDER BY name")) {
                while (rs.next()) {
                    tables.add(rs.getString(1));
                }
            }
            for (String table : tables) {
                try (ResultSet rs = statement.executeQuery("SELECT count(*) FROM \"" + table.replace("\"", "\"\"") + '"')) {
                    counts.put(table, rs.next() ? rs.getLong(1) : 0);
                }
            }
            return counts;
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read " + database + ": " + e.getMessage(), e);
        }
    }

    private static String integrityProblem(Path database) {
        try (Connection connection = DriverManager.getConnection("jdbc:sqlite:" + database.toAbsolutePath());
             Statement statement = connection.createStatement();
             ResultSet rs = statement.executeQuery("PRAGMA integrity_check")) {
            final String result = rs.next() ? rs.getString(1) : "no result";
            return "ok".equals(result) ? null : "integrity check: " + result;
        } catch (SQLException e) {
            return e.getMessage();
        }
    }

    /** Unpacks into {@code staging}, checking every file against the manifest; returns the manifest. */
    private static JsonNode unpack(Path archive, Path staging) throws IOException {
        final Map<String, String> digests = new LinkedHashMap<>();
        JsonNode manifest = null;
        try (ZipInputStream zip = new ZipInputStream(Files.newInputStream(archive))) {
            for (ZipEntry entry; (entry = zip.getNextEntry()) != null;) {
                if (MANIFEST.equals(entry.getName())) {
                    manifest = mapper.readTree(zip.readAllBytes());
                    continue;
                }
                final Path target = staging.resolve(entry.getName()).normalize();
                if (!target.startsWith(staging) || entry.isDirectory()) {
                    throw new IllegalArgumentException(archive + ": unexpected entry " + entry.getName());
                }
                Files.createDirectories(target.getParent());
                final MessageDigest digest = sha256();
                // Owner-only, like everything the archive holds (keys, accounts, conversations).
                Files.createFile(target, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
                try (OutputStream out = Files.newOutputStream(target)) {
                    new DigestInputStream(zip, digest).transferTo(out);
                }
                digests.put(entry.getName(), HexFormat.of().formatHex(digest.digest()));
            }
        } catch (java.util.zip.ZipException e) {
            throw new IllegalArgumentException(archive + " is not a Sonia backup: " + e.getMessage(), e);
        }
        if (manifest == null || manifest.path("format").asInt() != 1) {
            throw new IllegalArgumentException(archive + " is not a Sonia backup (no " + MANIFEST + " of format 1)");
        }
        for (JsonNode entry : manifest.path("files")) {
            final String path = entry.get("path").asText();
            if (!entry.get("sha256").asText().equals(digests.remove(path))) {
                throw new IllegalArgumentException(archive + ": " + path + " is missing or damaged (SHA-256 differs)");
            }
        }
        if (!digests.isEmpty()) {
            throw new IllegalArgumentException(archive + ": files not in the manifest: " + digests.keySet());
        }
        return manifest;
    }

    /** Adds a file to the archive; returns its SHA-256. */
    private static String add(ZipOutputStream zip, String name, Path file) throws IOException {
        zip.putNextEntry(new ZipEntry(name));
        final MessageDigest digest = sha256();
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), digest)) {
            in.transferTo(zip);
        }
        zip.closeEntry();
        return HexFormat.of().formatHex(digest.digest());
    }

    /** The first service of the stack that still accepts connections, as "name still listens on host:port", or null. */
    private String listening() {
        return listeningServices().entrySet().stream().findFirst()
                                  .map(e -> e.getKey() + " still listens on " + e.getValue()).orElse(null);
    }

    /** The services of the stack that accept connections, with their host:port. */
    private Map<String, String> listeningServices() {
        final Map<String, String> listening = new LinkedHashMap<>();
        for (ServiceSpec spec : Stack.SERVICES) {
            for (String target : config.targets(spec)) {
                final int colon = target.lastIndexOf(':');
                try (Socket socket = new Socket()) {
                    socket.connect(new InetSocketAddress(target.substring(0, colon),
                                                         Integer.parseInt(target.substring(colon + 1))), 300);
                    listening.put(spec.name(), target);
                } catch (IOException | NumberFormatException e) {
                    // not listening: fine
                }
            }
        }
        return listening;
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // best effort: a leftover staging directory is owner-only and named as such
        }
    }
}
