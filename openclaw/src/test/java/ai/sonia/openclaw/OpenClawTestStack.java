package ai.sonia.openclaw;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
import ai.sonia.runtime.testing.SoniaServiceExtension;

/**
 * Real EVA-OS and OpenClaw servers on loopback sharing one home (so one set of keys), each started by the
 * runtime's {@link SoniaServiceExtension}, a real memory gRPC server that records the credentials it is
 * called with, and stubs that call with a user's token.
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
    private final SoniaServiceExtension evaosService;
    private final SoniaServiceExtension openclawService;
    private final Map<String, String> env;

    OpenClawTestStack() {
        this("{}", Map.of());
    }

    /** With this {@code config/sonia.json} and extra environment for OpenClaw (a PATH without bwrap, say). */
    OpenClawTestStack(String configJson, Map<String, String> openclawEnv) {
        memory = SoniaServer.stopAtOnce(Server.builder()).http(0)
                       .service(GrpcService.builder().addService(memories).build())
                       .decorator((delegate, ctx, req) -> {
                           memoryAuthorizations.add(req.headers().get(HttpHeaderNames.AUTHORIZATION, ""));
                           return delegate.serve(ctx, req);
                       })
                       .build();
        memory.start().join();
        evaosService = SoniaServiceExtension.of(new EvaOsModule()).stackConfig(configJson).start();
        home = evaosService.home();
        env = new HashMap<>(openclawEnv);
        env.put("SONIA_EVAOS_TARGET", "127.0.0.1:" + evaosService.port());
        env.put("SONIA_MEMORY_TARGET", "127.0.0.1:" + memory.activeLocalPort());
        openclawService = SoniaServiceExtension.of(new OpenClawModule()).home(home)
                                               .factory(c -> new OpenClawModule().newServer(c.withEnv(env)))
                                               .start();
        config = openclawService.stackConfig().withEnv(env);
        evaos = evaosService.server();
        openclaw = openclawService.server();
    }

    /** Another OpenClaw replica on the same home, config and engines (the caller closes it). */
    SoniaServiceExtension replica() {
        return SoniaServiceExtension.of(new OpenClawModule()).home(home)
                                    .factory(c -> new OpenClawModule().newServer(c.withEnv(env))).start();
    }

    String token(String tenant, String user, Role role) {
        return openclawService.token(tenant, user, role);
    }

    /** The admin of tenant "default": the one user of the stack before tenants. */
    String adminToken() {
        return openclawService.adminToken();
    }

    OpenClawServiceGrpc.OpenClawServiceBlockingStub tools(String token) {
        return openclawService.stub(OpenClawServiceGrpc::newBlockingStub, token);
    }

    EvaOsServiceGrpc.EvaOsServiceBlockingStub approvals(String token) {
        return evaosService.stub(EvaOsServiceGrpc::newBlockingStub, token);
    }

    WebClient rest(String token) {
        return openclawService.rest(token);
    }

    /** The workspace of tenant "default". */
    Path defaultWorkspace() {
        return home.resolve("data/openclaw/workspace");
    }

    @Override
    public void close() {
        openclawService.close();
        evaosService.close();
        memory.stop().join();
    }
}
