package ai.sonia.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

import ai.sonia.runtime.Stack;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.testing.FreePorts;
import ai.sonia.runtime.testing.TestHomes;

/**
 * The backup of a stack running in other processes, as {@code scripts/sonia backup} takes it: every service
 * holds its SQLite files locked against other processes (unix-excl), so the copies come from the stack's own
 * JVMs through {@code run/control}. One JVM with all six services, and the {@code --separate} shape (here two
 * JVMs with three services each, polling the same control directory). Then stop, restore, start: every row of
 * every table of every database comes back.
 */
class StackBackupOutOfProcessIT {

    private static final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @Test
    void oneJvm() throws Exception {
        backupRestoreAndCompare("backup-one-jvm", List.of(List.of()));
    }

    @Test
    void twoJvmsLikeSeparate() throws Exception {
        backupRestoreAndCompare("backup-two-jvms", List.of(List.of("gateway", "memory", "router"),
                                                           List.of("openclaw", "evaos", "pipecat")));
    }

    private static void backupRestoreAndCompare(String name, List<List<String>> jvms) throws Exception {
        final Path home = TestHomes.create(name);
        Files.createDirectories(home.resolve("config"));
        Files.writeString(home.resolve("config/sonia.json"), StackBackupIT.CONFIG);
        final Map<String, Integer> ports = new LinkedHashMap<>();
        List<Process> stack = start(home, ports, jvms);
        final StackConfig config = StackConfig.load(Map.of("SONIA_HOME", home.toString())).withPorts(ports);
        final Path archive = home.resolve("running.zip");
        final String password;
        try {
            password = Files.readString(home.resolve("secrets/admin-password")).trim();
            final String admin = StackBackupIT.login(ports::get, password);
            StackBackupIT.writeIntoEveryStore(ports::get, admin);
            // What the backup is up against: another process cannot open a live database at all.
            for (String db : StackBackupIT.DATABASES) {
                assertThatThrownBy(() -> {
                    try (var c = DriverManager.getConnection("jdbc:sqlite:" + home.resolve(db));
                         var s = c.createStatement()) {
                        s.executeQuery("SELECT count(*) FROM sqlite_master").close();
                    }
                }).as(db).isInstanceOf(SQLException.class).hasMessageContaining("locked");
            }
            // Recent writes are still in the write-ahead logs: the copies must read them from there.
            assertThat(StackBackupIT.DATABASES.stream().map(db -> home.resolve(db + "-wal"))
                                              .filter(wal -> wal.toFile().length() > 0)).isNotEmpty();
            final long t0 = System.nanoTime();
            assertThat(StackBackup.run(config, List.of("backup", "--out", archive.toString()))).isZero();
            System.out.printf("backup of a running stack (%d JVMs): %d ms%n", jvms.size(),
                              (System.nanoTime() - t0) / 1_000_000);
            // Every request and answer is gone: nothing left for a JVM to do again.
            try (var left = Files.list(home.resolve("run/control"))) {
                assertThat(left.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith("snapshot-"));
            }
            assertThat(StackBackup.run(config, List.of("restore", archive.toString()))).isEqualTo(1);
            if (stack.size() > 1) {
                // One JVM gone (its services stopped): the backup copies their files itself, the rest on request.
                stop(stack.subList(1, stack.size()));
                assertThat(StackBackup.run(config, List.of("backup", "--out", home.resolve("mixed.zip").toString())))
                        .isZero();
                try (var zip = new java.util.zip.ZipFile(home.resolve("mixed.zip").toFile())) {
                    assertThat(zip.stream().map(java.util.zip.ZipEntry::getName))
                            .containsAll(StackBackupIT.DATABASES);
                }
            }
        } finally {
            stop(stack);
        }
        final Map<String, Map<String, List<String>>> before = StackBackupIT.dumpAll(home);
        assertThat(before.keySet()).containsAll(StackBackupIT.DATABASES);
        for (String db : StackBackupIT.DATABASES) {
            assertThat(before.get(db).values().stream().mapToInt(List::size).sum()).as(db + " has rows").isPositive();
        }

        StackBackupIT.deleteTree(home.resolve("data"));
        assertThat(StackBackup.run(config, List.of("restore", archive.toString()))).isZero();
        StackBackupIT.assertSameRows(before, StackBackupIT.dumpAll(home));

        stack = start(home, ports, jvms);
        try {
            final String admin = StackBackupIT.login(ports::get, password);
            final HttpResponse<String> memories = StackBackupIT.get(ports::get, "memory", "/v1/memories", admin);
            assertThat(memories.statusCode()).as(memories.body()).isEqualTo(200);
            assertThat(memories.body()).contains("backup-canary");
        } finally {
            stop(stack);
        }
    }

    /**
     * The packaged launcher, one process per entry of {@code jvms} (an empty list: all six services), on ports
     * picked afresh into {@code ports} (again on new ones if a port was taken in between: FreePorts).
     */
    private static List<Process> start(Path home, Map<String, Integer> ports, List<List<String>> jvms)
            throws Exception {
        return FreePorts.retrying(() -> {
            ports.clear();
            ports.putAll(FreePorts.pick(Stack.SERVICES.stream().map(ai.sonia.runtime.ServiceSpec::name).toList()));
            return launch(home, ports, jvms);
        });
    }

    private static List<Process> launch(Path home, Map<String, Integer> ports, List<List<String>> jvms)
            throws IOException, InterruptedException {
        final Path launcher = Path.of(System.getenv().getOrDefault("SONIA_LAUNCHER_DIR", "target"));
        final List<Process> processes = new ArrayList<>();
        for (int i = 0; i < jvms.size(); i++) {
            final List<String> command = new ArrayList<>(List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Djava.io.tmpdir=" + home,
                    "-cp", launcher.resolve("sonia-launcher.jar") + java.io.File.pathSeparator
                           + launcher.resolve("lib") + "/*",
                    "ai.sonia.launcher.StackMain"));
            command.addAll(jvms.get(i));
            final ProcessBuilder pb = new ProcessBuilder(command);
            pb.environment().putAll(ai.sonia.runtime.testing.TestHomes.env(home));
            pb.environment().put("OLLAMA_BASE_URL", "http://127.0.0.1:1");
            ports.forEach((service, port) -> pb.environment().put("SONIA_" + service.toUpperCase() + "_PORT",
                                                                   String.valueOf(port)));
            pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(
                    home.resolve("stack-" + i + ".out").toFile()));
            processes.add(pb.start());
        }
        try {
            Awaitility.await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(100)).until(
                    () -> ports.values().stream().allMatch(StackBackupOutOfProcessIT::healthy)
                          || processes.stream().anyMatch(p -> !p.isAlive()));
        } catch (RuntimeException e) {
            stop(processes);
            throw e;
        }
        for (int i = 0; i < processes.size(); i++) {
            if (!processes.get(i).isAlive()) {
                stop(processes);
                throw new AssertionError("stack JVM " + i + " exited: "
                                         + Files.readString(home.resolve("stack-" + i + ".out")));
            }
        }
        return processes;
    }

    /** SIGTERM (the services stop gracefully and release their databases), then wait. */
    private static void stop(List<Process> processes) throws InterruptedException {
        processes.forEach(Process::destroy);
        for (Process p : processes) {
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    private static boolean healthy(int port) {
        try {
            return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/healthz"))
                                        .timeout(Duration.ofSeconds(5)).build(),
                             HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
        } catch (Exception e) {
            return false;
        }
    }
}
