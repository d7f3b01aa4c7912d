package ai.sonia.router;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;

import com.linecorp.armeria.client.ClientFactory;
import com.linecorp.armeria.client.grpc.GrpcClients;

import ai.sonia.router.v1.RouterServiceGrpc.RouterServiceBlockingStub;
import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.StackConfig;

/** A real router server on a free loopback port, configured by the JSON of its {@code services.router}. */
final class RouterFixture implements AutoCloseable {

    final Path home;
    final SoniaServer server;
    final RouterServiceBlockingStub stub;
    // Closed before the server, so that it has no open connection to drain on stop.
    private final ClientFactory clients = ClientFactory.builder().build();

    RouterFixture(String routerSectionJson) {
        this(routerSectionJson, Map.of());
    }

    RouterFixture(String routerSectionJson, Map<String, String> env) {
        home = Path.of("target", "test-home-" + UUID.randomUUID()).toAbsolutePath();
        try {
            Files.createDirectories(home.resolve("config"));
            Files.writeString(home.resolve("config/sonia.json"),
                              "{\"services\":{\"router\":" + routerSectionJson + "}}");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        final Map<String, String> all = new java.util.HashMap<>(env);
        all.put("SONIA_HOME", home.toString());
        server = new RouterModule().newServer(StackConfig.load(all).withPorts(Map.of("router", 0))).start();
        stub = GrpcClients.builder("http://127.0.0.1:" + server.port()).factory(clients)
                          .build(RouterServiceBlockingStub.class);
    }

    String uri() {
        return "http://127.0.0.1:" + server.port();
    }

    /** A loopback URL where nothing listens: connections are refused. */
    static String closedUrl() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return "http://127.0.0.1:" + socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        clients.close();
        // Stopped in the background: Netty's boss group takes its 2 s quiet period, and each test has its own
        // port and home directory, so nothing waits on it.
        final Thread stopper = new Thread(server::close, "router-fixture-stop");
        stopper.setDaemon(true);
        stopper.start();
    }
}
