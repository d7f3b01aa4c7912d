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

/** {@code scripts/sonia restart <service>} in the one-JVM mode: a request file restarts one server in place. */
class RestartControlTest {

    @Test
    void aRequestFileRestartsOneServiceOnItsPortAndAnswersOk() throws Exception {
        final StackConfig config = TestHomes.config("restart-control", "evaos");
        final Map<String, SoniaServer> servers = new ConcurrentHashMap<>();
        servers.put("evaos", StackMain.modules().get("evaos").newServer(config).start());
        final Path control = config.home().resolve("run/control");
        final Thread watcher = new Thread(new RestartControl(control, config, StackMain.modules(), servers));
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

            Files.createFile(control.resolve("restart-memory"));
            final Path refused = control.resolve("restart-memory.done");
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(refused));
            assertThat(Files.readString(refused).trim()).isEqualTo("not running in this JVM: memory");
        } finally {
            watcher.interrupt();
            watcher.join(5_000);
            servers.values().forEach(SoniaServer::close);
        }
    }
}
