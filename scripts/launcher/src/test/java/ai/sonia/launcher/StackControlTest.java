package ai.sonia.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

import com.linecorp.armeria.client.WebClient;

import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.testing.TestHomes;

/**
 * {@code scripts/sonia restart <service>} in the one-JVM mode: a request file restarts one server in place; a
 * request for a service this JVM does not run stays for the JVM that runs it.
 */
class StackControlTest {

    @Test
    void aRequestFileRestartsOneServiceOnItsPortAndAnswersOk() throws Exception {
        final StackConfig config = TestHomes.config("restart-control", "evaos");
        final Map<String, SoniaServer> servers = new ConcurrentHashMap<>();
        servers.put("evaos", StackMain.modules().get("evaos").newServer(config).start());
        final Path control = config.home().resolve("run/control");
        final Thread watcher = new Thread(new StackControl(control, config, java.util.Set.of("evaos"), StackMain.modules(), servers));
        watcher.start();
        try {
            final SoniaServer before = servers.get("evaos");
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> Files.isDirectory(control));
            Files.createFile(control.resolve("restart-evaos"));
            final Path done = control.resolve("restart-evaos.done");
            Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(done));
            assertThat(Files.readString(done).trim()).isEqualTo("ok");
            assertThat(servers.get("evaos")).isNotSameAs(before);
            assertThat(WebClient.of("http://127.0.0.1:" + servers.get("evaos").port()).get("/livez").aggregate().join()
                                .status().code()).isEqualTo(200);

            // Another JVM's service (--separate): left alone, not consumed. Two more rounds of evaos requests
            // prove that the watcher has looked at the directory since.
            Files.createFile(control.resolve("restart-memory"));
            for (int round = 0; round < 2; round++) {
                Files.delete(done);
                Files.createFile(control.resolve("restart-evaos"));
                Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(done));
            }
            assertThat(control.resolve("restart-memory")).exists();
            assertThat(control.resolve("restart-memory.done")).doesNotExist();
        } finally {
            watcher.interrupt();
            watcher.join(5_000);
            servers.values().forEach(SoniaServer::close);
        }
    }

    @Test
    void aBackupNamesTheListeningServiceThatDoesNotAnswerItsSnapshotRequest() throws Exception {
        final java.nio.file.Path home = TestHomes.create("snapshot-silent");
        Files.createDirectories(home.resolve("data/memory"));
        try (var c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + home.resolve("data/memory/memory.db"));
             var s = c.createStatement()) {
            s.execute("CREATE TABLE t (x)");
        }
        // Something listens on memory's port, but no Sonia JVM watches this home's control directory.
        try (java.net.ServerSocket memory = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            final Map<String, Integer> ports = new java.util.HashMap<>();
            ai.sonia.runtime.Stack.SERVICES.forEach(spec -> ports.put(spec.name(), 0));
            ports.put("memory", memory.getLocalPort());
            final StackConfig config = StackConfig.load(TestHomes.env(home)).withPorts(ports);
            org.assertj.core.api.Assertions.assertThatThrownBy(
                    () -> new StackBackup(config, Duration.ofMillis(500)).backup(home.resolve("a.zip"), false))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("memory listens but did not answer the snapshot request");
        }
        assertThat(home.resolve("a.zip")).doesNotExist();
        try (var left = Files.list(home.resolve("run/control"))) {
            assertThat(left).isEmpty(); // the request is withdrawn
        }
    }

    @Test
    void aSnapshotGoesOnlyIntoABackupsStagingDirectoryAndCopiesOnlyTheServicesOwnDatabases() throws Exception {
        final StackConfig config = TestHomes.config("snapshot-refusals", "memory");
        final java.nio.file.Path home = config.home();
        Files.createDirectories(home.resolve("data/memory"));
        Files.createDirectories(home.resolve("data/gateway"));
        for (String db : java.util.List.of("data/memory/memory.db", "data/gateway/accounts.db")) {
            try (var c = ai.sonia.runtime.store.Sqlite.open(home.resolve(db)); var s = c.createStatement()) {
                s.execute("CREATE TABLE t (x)");
                s.execute("INSERT INTO t VALUES (42)");
            }
        }
        final StackControl control = new StackControl(home.resolve("run/control"), config, java.util.Set.of("memory"),
                                                      StackMain.modules(), new ConcurrentHashMap<>());
        final java.nio.file.Path staging = Files.createDirectories(home.resolve(".backup-x.tmp"));
        assertThat(control.snapshot("memory", home.resolve("elsewhere").toString(), java.util.List.of("data/memory/memory.db")))
                .startsWith("refused: the target");
        assertThat(control.snapshot("memory", staging.toString(), java.util.List.of("data/gateway/accounts.db")))
                .isEqualTo("refused: data/gateway/accounts.db is not a database of memory");
        assertThat(control.snapshot("memory", staging.toString(), java.util.List.of("data/memory/../../secrets/x")))
                .startsWith("refused:");
        assertThat(control.snapshot("memory", staging.toString(), java.util.List.of("data/memory/memory.db")))
                .isEqualTo("ok");
        assertThat(StackBackup.rowCounts(staging.resolve("data/memory/memory.db"))).containsEntry("t", 1L);
    }
}
