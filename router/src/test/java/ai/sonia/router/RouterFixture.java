package ai.sonia.router;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;

import com.linecorp.armeria.client.ClientFactory;
import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.client.grpc.GrpcClients;
import com.linecorp.armeria.common.HttpHeaderNames;

import ai.sonia.common.v1.Role;

import ai.sonia.router.v1.RouterServiceGrpc.RouterServiceBlockingStub;
import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.auth.Principal;
import ai.sonia.runtime.auth.ServiceCredentials;
import ai.sonia.runtime.testing.TestCredentials;

/**
 * A real router server on a free loopback port, configured by the JSON of its {@code services.router}, with
 * clients that carry real access tokens signed with the home's keys. {@link #stub} is the admin of tenant
 * "default".
 */
final class RouterFixture implements AutoCloseable {

    final Path home;
    final StackConfig config;
    final SoniaServer server;
    final RouterServiceBlockingStub stub;
    private final Map<String, String> env;
    // Closed before the server, so that it has no open connection to drain on stop.
    private final ClientFactory clients = ClientFactory.builder().build();

    RouterFixture(String routerSectionJson) {
        this(routerSectionJson, Map.of());
    }

    RouterFixture(String routerSectionJson, Map<String, String> env) {
        this(newHome(routerSectionJson), env);
    }

    private RouterFixture(Path home, Map<String, String> env) {
        this.home = home;
        this.env = Map.copyOf(env);
        final Map<String, String> all = new java.util.HashMap<>(env);
        all.put("SONIA_HOME", home.toString());
        config = StackConfig.load(all).withPorts(Map.of("router", 0));
        server = new RouterModule().newServer(config).start();
        stub = as(TestCredentials.adminToken(config));
    }

    /** Stops this router and starts a new one on the same home (config, keys and ledger). */
    RouterFixture restart() {
        clients.close();
        server.close();
        return new RouterFixture(home, env);
    }

    /** An access token of {@code user} in {@code tenant}. */
    String token(String tenant, String user, Role role) {
        return TestCredentials.token(config, tenant, user, role);
    }

    /** A credential of a Sonia service acting for itself (trusted across tenants). */
    String serviceToken() {
        return ServiceCredentials.of(config).issue("gateway", Principal.service("gateway"));
    }

    /** A gRPC stub that calls with {@code token}. */
    RouterServiceBlockingStub as(String token) {
        return GrpcClients.builder(uri()).factory(clients).build(RouterServiceBlockingStub.class)
                          .withInterceptors(TestCredentials.bearer(token));
    }

    /** A REST client that calls with {@code token}. */
    WebClient web(String token) {
        return WebClient.builder(uri()).factory(clients)
                        .addHeader(HttpHeaderNames.AUTHORIZATION, "Bearer " + token).build();
    }

    /** A REST client of the admin of tenant "default". */
    WebClient web() {
        return web(TestCredentials.adminToken(config));
    }

    String uri() {
        return "http://127.0.0.1:" + server.port();
    }

    private static Path newHome(String routerSectionJson) {
        final Path home = Path.of("target", "test-home-" + UUID.randomUUID()).toAbsolutePath();
        try {
            Files.createDirectories(home.resolve("config"));
            Files.writeString(home.resolve("config/sonia.json"),
                              "{\"services\":{\"router\":" + routerSectionJson + "}}");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return home;
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
