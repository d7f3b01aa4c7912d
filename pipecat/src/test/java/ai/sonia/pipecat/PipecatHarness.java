package ai.sonia.pipecat;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import ai.sonia.pipecat.v1.PipecatServiceGrpc;
import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.StackConfig;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;

/** A real pipecat server on a free port, with its data under target/, and a test gateway. */
final class PipecatHarness implements AutoCloseable {

    final TestGateway gateway;
    final Path home;
    private final Map<String, String> env;
    private SoniaServer server;
    private ManagedChannel channel;

    PipecatHarness(String name, Map<String, String> settings) throws Exception {
        gateway = new TestGateway();
        home = Path.of("target", "test-home-" + name + '-' + System.nanoTime()).toAbsolutePath();
        env = new HashMap<>(settings);
        env.put("SONIA_HOME", home.toString());
        env.put("SONIA_GATEWAY_TARGET", gateway.target());
        start();
    }

    PipecatHarness(String name) throws Exception {
        this(name, Map.of());
    }

    /** Stops the server and starts a new one on the same data directory. */
    void restart() {
        stopServer();
        start();
    }

    int port() {
        return server.port();
    }

    PipecatServiceGrpc.PipecatServiceBlockingStub blocking() {
        return PipecatServiceGrpc.newBlockingStub(channel);
    }

    PipecatServiceGrpc.PipecatServiceStub async() {
        return PipecatServiceGrpc.newStub(channel);
    }

    WsClient ws(String sessionId, long lastSequence) throws Exception {
        return WsClient.connect(port(), sessionId, lastSequence, null);
    }

    private void start() {
        server = new PipecatModule().newServer(StackConfig.load(env).withPorts(Map.of("pipecat", 0))).start();
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
