package ai.sonia.pipecat;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import com.linecorp.armeria.client.WebClient;

import ai.sonia.common.v1.Role;
import ai.sonia.pipecat.v1.PipecatServiceGrpc;
import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.testing.TestCredentials;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;

/**
 * A real pipecat server on a free port, with its data under target/, and a test gateway. Clients carry a
 * token signed with the test home's keys: by default that of {@link #USER} of {@link #TENANT}.
 */
final class PipecatHarness implements AutoCloseable {

    static final String TENANT = "acme";
    static final String USER = "ada";

    final TestGateway gateway;
    final Path home;
    final StackConfig config;
    /** The access token of {@link #USER}, the default for every client of the harness. */
    final String token;
    private final Map<String, String> env;
    private SoniaServer server;
    private ManagedChannel channel;

    PipecatHarness(String name, Map<String, String> settings) throws Exception {
        home = Path.of("target", "test-home-" + name + '-' + System.nanoTime()).toAbsolutePath();
        env = new HashMap<>(settings);
        env.put("SONIA_HOME", home.toString());
        gateway = new TestGateway(StackConfig.load(env));
        env.put("SONIA_GATEWAY_TARGET", gateway.target());
        config = StackConfig.load(env);
        token = userToken(TENANT, USER);
        start();
    }

    PipecatHarness(String name) throws Exception {
        this(name, Map.of());
    }

    /** Stops the server and starts a new one on the same data directory. */
    void restart() {
        restart(() -> {});
    }

    /** Stops the server, runs {@code whileStopped} (to change its data, say), and starts a new one. */
    void restart(Runnable whileStopped) {
        stopServer();
        whileStopped.run();
        start();
    }

    int port() {
        return server.port();
    }

    String userToken(String tenant, String user) {
        return TestCredentials.userToken(config, tenant, user);
    }

    String adminToken(String tenant) {
        return TestCredentials.token(config, tenant, "boss", Role.ROLE_ADMIN);
    }

    PipecatServiceGrpc.PipecatServiceBlockingStub blocking() {
        return blocking(token);
    }

    PipecatServiceGrpc.PipecatServiceBlockingStub blocking(String token) {
        return PipecatServiceGrpc.newBlockingStub(channel).withInterceptors(TestCredentials.bearer(token));
    }

    PipecatServiceGrpc.PipecatServiceStub async() {
        return async(token);
    }

    PipecatServiceGrpc.PipecatServiceStub async(String token) {
        return PipecatServiceGrpc.newStub(channel).withInterceptors(TestCredentials.bearer(token));
    }

    /** A REST client sending {@code token}. */
    WebClient rest(String token) {
        return TestCredentials.webClient("http://127.0.0.1:" + port(), token);
    }

    WsClient ws(String sessionId, long lastSequence) throws Exception {
        return ws(token, sessionId, lastSequence);
    }

    WsClient ws(String token, String sessionId, long lastSequence) throws Exception {
        return WsClient.connect(port(), sessionId, lastSequence, null, token);
    }

    private void start() {
        server = new PipecatModule().newServer(config.withPorts(Map.of("pipecat", 0))).start();
        channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
    }

    private void stopServer() {
        channel.shutdownNow();
        server.close();
    }

    @Override
    public void close() {
        stopServer();
        gateway.close();
    }
}
