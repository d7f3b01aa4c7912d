package ai.sonia.openclaw;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.server.Server;
import com.linecorp.armeria.server.grpc.GrpcService;

import ai.sonia.common.v1.Role;
import ai.sonia.evaos.EvaOsModule;
import ai.sonia.evaos.v1.EvaOsServiceGrpc;
import ai.sonia.openclaw.v1.OpenClawServiceGrpc;
import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.testing.TestCredentials;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;

/**
 * Real EVA-OS and OpenClaw servers on loopback sharing one home (so one set of keys), a real memory gRPC
 * server that records the credentials it is called with, and stubs that call with a user's token.
 */
final class OpenClawTestStack implements AutoCloseable {

    final Path home;
    final StackConfig config;
    final TestMemoryService memories = new TestMemoryService();
    /** The Authorization header of every call the memory server received. */
    final List<String> memoryAuthorizations = new CopyOnWriteArrayList<>();
    final Server memory;
    final SoniaServer evaos;
    final SoniaServer openclaw;
    private final ManagedChannel channel;
    private final ManagedChannel evaosChannel;

    OpenClawTestStack() {
        this("{}", Map.of());
    }

    /** With this {@code config/sonia.json} and extra environment for OpenClaw (a PATH without bwrap, say). */
    OpenClawTestStack(String configJson, Map<String, String> openclawEnv) {
        home = Path.of("target", "e2e-" + UUID.randomUUID()).toAbsolutePath();
        try {
            Files.createDirectories(home.resolve("config"));
            Files.writeString(home.resolve("config/sonia.json"), configJson);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        memory = Server.builder().http(0)
                       .service(GrpcService.builder().addService(memories).build())
                       .decorator((delegate, ctx, req) -> {
                           memoryAuthorizations.add(req.headers().get(HttpHeaderNames.AUTHORIZATION, ""));
                           return delegate.serve(ctx, req);
                       })
                       .build();
        memory.start().join();
        final StackConfig base = StackConfig.load(Map.of("SONIA_HOME", home.toString()));
        evaos = new EvaOsModule().newServer(base.withPorts(Map.of("evaos", 0))).start();
        final Map<String, String> env = new java.util.HashMap<>(openclawEnv);
        env.put("SONIA_EVAOS_TARGET", "127.0.0.1:" + evaos.port());
        env.put("SONIA_MEMORY_TARGET", "127.0.0.1:" + memory.activeLocalPort());
        config = base.withPorts(Map.of("openclaw", 0)).withEnv(env);
        openclaw = new OpenClawModule().newServer(config).start();
        channel = ManagedChannelBuilder.forAddress("127.0.0.1", openclaw.port()).usePlaintext().build();
        evaosChannel = ManagedChannelBuilder.forAddress("127.0.0.1", evaos.port()).usePlaintext().build();
    }

    String token(String tenant, String user, Role role) {
        return TestCredentials.token(config, tenant, user, role);
    }

    /** The admin of tenant "default": the one user of the stack before tenants. */
    String adminToken() {
        return TestCredentials.adminToken(config);
    }

    OpenClawServiceGrpc.OpenClawServiceBlockingStub tools(String token) {
        return OpenClawServiceGrpc.newBlockingStub(channel).withInterceptors(TestCredentials.bearer(token));
    }

    EvaOsServiceGrpc.EvaOsServiceBlockingStub approvals(String token) {
        return EvaOsServiceGrpc.newBlockingStub(evaosChannel).withInterceptors(TestCredentials.bearer(token));
    }

    WebClient rest(String token) {
        return TestCredentials.webClient("http://127.0.0.1:" + openclaw.port(), token);
    }

    /** The workspace of tenant "default". */
    Path defaultWorkspace() {
        return home.resolve("data/openclaw/workspace");
    }

    @Override
    public void close() {
        channel.shutdownNow();
        evaosChannel.shutdownNow();
        openclaw.close();
        evaos.close();
        memory.stop().join();
    }
}
