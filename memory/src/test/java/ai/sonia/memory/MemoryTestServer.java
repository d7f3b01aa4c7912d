package ai.sonia.memory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.client.grpc.GrpcClients;

import ai.sonia.common.v1.Role;
import ai.sonia.common.v1.Scope;
import ai.sonia.memory.v1.Memory;
import ai.sonia.memory.v1.MemoryServiceGrpc.MemoryServiceBlockingStub;
import ai.sonia.memory.v1.StoreMemoryRequest;
import ai.sonia.memory.v1.StoreMemoryResponse;
import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.auth.Principal;
import ai.sonia.runtime.auth.ServiceCredentialInterceptor;
import ai.sonia.runtime.auth.ServiceCredentials;
import ai.sonia.runtime.testing.TestCredentials;

/**
 * A real memory server on a free loopback port, over a fresh SQLite file under target/, with clients that
 * carry credentials signed by the server's own keys.
 */
final class MemoryTestServer implements AutoCloseable {

    final Path home;
    final StackConfig config;
    final MutableClock clock = new MutableClock();
    final SoniaServer server;
    /**
     * A Sonia service acting for itself: it names whichever tenant and user it likes, as every caller did
     * before authentication, so the engine's own tests read as they did. Tenancy has its own tests.
     */
    final MemoryServiceBlockingStub stub;

    private MemoryTestServer(Path home) {
        this.home = home;
        config = StackConfig.load(Map.of("SONIA_HOME", home.toString())).withPorts(Map.of("memory", 0));
        server = new MemoryModule().newServer(config, clock).start();
        stub = GrpcClients.builder(uri())
                          .intercept(new ServiceCredentialInterceptor(ServiceCredentials.of(config), "memory-test"))
                          .build(MemoryServiceBlockingStub.class);
    }

    /** A stub that calls as {@code user} of {@code tenant} with {@code role}, by an access token. */
    MemoryServiceBlockingStub as(String tenant, String user, Role role) {
        return GrpcClients.builder(uri()).intercept(TestCredentials.bearer(token(tenant, user, role)))
                          .build(MemoryServiceBlockingStub.class);
    }

    /** An access token of {@code user} of {@code tenant} with {@code role}. */
    String token(String tenant, String user, Role role) {
        return TestCredentials.token(config, tenant, user, role);
    }

    /** A REST client that calls as a Sonia service acting for itself (its credential lives a minute). */
    WebClient serviceWeb() {
        return TestCredentials.webClient(uri(), ServiceCredentials.of(config).issue(
                "memory-test", Principal.service("memory-test")));
    }

    /** A REST client that calls as {@code user} of {@code tenant} with {@code role}. */
    WebClient web(String tenant, String user, Role role) {
        return TestCredentials.webClient(uri(), token(tenant, user, role));
    }

    /** A server over a new, empty ledger. */
    static MemoryTestServer fresh(String name) {
        return new MemoryTestServer(newHome(name));
    }

    /** A server over a new, empty ledger, with a {@code services.memory} configuration section. */
    static MemoryTestServer fresh(String name, String memorySection) {
        final Path home = newHome(name);
        try {
            Files.createDirectories(home.resolve("config"));
            Files.writeString(home.resolve("config/sonia.json"),
                              "{\"services\":{\"memory\":" + memorySection + "}}");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new MemoryTestServer(home);
    }

    private static Path newHome(String name) {
        return Path.of("target", "test-home", name + '-' + System.nanoTime()).toAbsolutePath();
    }

    /** A server over the ledger another server left in {@code home}. */
    static MemoryTestServer reopen(Path home) {
        return new MemoryTestServer(home);
    }

    String uri() {
        return "http://127.0.0.1:" + server.port();
    }

    Path database() {
        return home.resolve("data/memory/memory.db");
    }

    StoreMemoryResponse store(Scope scope, String text) {
        return stub.storeMemory(StoreMemoryRequest.newBuilder()
                                                  .setMemory(Memory.newBuilder().setScope(scope).setText(text))
                                                  .build());
    }

    static Scope scope(String tenant, String user, String session) {
        return Scope.newBuilder().setTenant(tenant).setUser(user).setSession(session).build();
    }

    static Scope tenant(String tenant) {
        return Scope.newBuilder().setTenant(tenant).build();
    }

    @Override
    public void close() {
        server.close();
    }
}
