package ai.sonia.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.Stack;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.testing.TestHomes;

/**
 * What the stack's JVM does for {@code scripts/sonia up} so that {@code up} starts no other JVM: it refuses a
 * taken port before opening anything (naming port and service), writes {@code run/ports}, and once up the
 * lines {@code up} prints ({@code run/tls}, {@code run/notice}: OpenClaw's warning from its /status summary).
 */
class StackMainRunFilesTest {

    @Test
    void aTakenPortIsNamedWithItsServiceAndAFreeOneIsNot() throws Exception {
        final Path home = TestHomes.create("run-files-busy");
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress("127.0.0.1", 0));
            final int port = taken.getLocalPort();
            final StackConfig config = StackConfig.load(TestHomes.env(home)).withPorts(Map.of("router", port));
            assertThat(StackMain.busyPorts(config, List.of(Stack.GATEWAY, Stack.ROUTER)))
                    .containsExactly("sonia: port " + port + " (router) is already in use");
            taken.close();
            assertThat(StackMain.busyPorts(config, List.of(Stack.ROUTER))).isEmpty();
        }
    }

    @Test
    void portsAreWrittenForEveryServiceAndOpenClawsWarningAsUpPrintsIt() throws Exception {
        final Path home = TestHomes.create("run-files-notice");
        Files.createDirectories(home.resolve("config"));
        Files.writeString(home.resolve("config/sonia.json"),
                          "{\"portOffset\": 900, \"services\": {\"openclaw\": {\"jail\": \"none\"}}}");
        final StackConfig config = StackConfig.load(TestHomes.env(home));
        StackMain.writeRunFile(config, StackMain.PORTS_FILE, StackMain.ports(config));
        assertThat(Files.readAllLines(home.resolve("run/ports")))
                .containsExactly("gateway 7900", "router 7910", "memory 7920", "pipecat 7930", "openclaw 7940",
                                 "evaos 7950");

        try (SoniaServer openclaw = StackMain.modules().get("openclaw").newServer(config)) {
            StackMain.writeNotices(config, Map.of("openclaw", openclaw));
        }
        assertThat(Files.readString(home.resolve("run/notice")))
                .startsWith("sonia: WARNING (openclaw): jail is none: shell.run programs run UNCONFINED");
        assertThat(home.resolve("run/tls")).doesNotExist(); // the gateway runs in another JVM
        assertThat(home.resolve("run")).isDirectoryNotContaining("glob:**.tmp");
    }
}
