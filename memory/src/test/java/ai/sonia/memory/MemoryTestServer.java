package ai.sonia.memory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import com.linecorp.armeria.client.grpc.GrpcClients;

import ai.sonia.common.v1.Scope;
import ai.sonia.memory.v1.Memory;
import ai.sonia.memory.v1.MemoryServiceGrpc.MemoryServiceBlockingStub;
import ai.sonia.memory.v1.StoreMemoryRequest;
import ai.sonia.memory.v1.StoreMemoryResponse;
import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.StackConfig;

/** A real memory server on a free loopback port, over a fresh SQLite file under target/. */
final class MemoryTestServer implements AutoCloseable {

    final Path home;
    final MutableClock clock = new MutableClock();
    final SoniaServer server;
    final MemoryServiceBlockingStub stub;

    private MemoryTestServer(Path home) {
        this.home = home;
        final StackConfig config = StackConfig.load(Map.of("SONIA_HOME", home.toString()))
                                              .withPorts(Map.of("memory", 0));
        server = new MemoryModule().newServer(config, clock).start();
        stub = GrpcClients.newClient(uri(), MemoryServiceBlockingStub.class);
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
