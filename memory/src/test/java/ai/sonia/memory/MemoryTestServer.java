package ai.sonia.memory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import com.linecorp.armeria.client.WebClient;

import ai.sonia.common.v1.Role;
import ai.sonia.common.v1.Scope;
import ai.sonia.memory.v1.Memory;
import ai.sonia.memory.v1.MemoryServiceGrpc;
import ai.sonia.memory.v1.MemoryServiceGrpc.MemoryServiceBlockingStub;
import ai.sonia.memory.v1.StoreMemoryRequest;
import ai.sonia.memory.v1.StoreMemoryResponse;
import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.auth.ServiceCredentialInterceptor;
import ai.sonia.runtime.auth.ServiceCredentials;
import ai.sonia.runtime.testing.MutableClock;
import ai.sonia.runtime.testing.SoniaServiceExtension;
import ai.sonia.runtime.testing.TestHomes;

/**
 * Memory's tests' view of a real memory server, started by the runtime's {@link SoniaServiceExtension} on a
 * free loopback port over a test home under target/ (kept after the server stops, so a test can reopen the
 * ledger it left), with memory's own seam: the clock that stamps and decays memories.
 */
final class MemoryTestServer implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    final Path home;
    final StackConfig config;
    final MutableClock clock = new MutableClock();
    final SoniaServer server;
    /**
     * A Sonia service acting for itself: it names whichever tenant and user it likes, as every caller did
     * before authentication, so the engine's own tests read as they did. Tenancy has its own tests.
     */
    final MemoryServiceBlockingStub stub;
    private final SoniaServiceExtension extension;

    private MemoryTestServer(Path home) {
        this.home = home;
        withoutEvaOs(home);
        extension = SoniaServiceExtension.of(new MemoryModule()).home(home)
                                         .factory(c -> new MemoryModule().newServer(c, clock)).start();
        config = extension.stackConfig();
        server = extension.server();
        // A fresh service credential on every call: a class's shared server may outlive one credential.
        stub = MemoryServiceGrpc.newBlockingStub(extension.channel()).withInterceptors(
                new ServiceCredentialInterceptor(ServiceCredentials.of(config), "memory-test"));
    }

    /**
     * Memory runs alone here, so its config says so: {@code services.memory.training.enforce} false (unless
     * the test set it), else every change would be refused for want of EVA-OS (TrainingGateTest runs it with).
     */
    private static void withoutEvaOs(Path home) {
        final Path file = home.resolve("config/sonia.json");
        try {
            final ObjectNode root = Files.isRegularFile(file) ? (ObjectNode) JSON.readTree(file.toFile())
                                                              : JSON.createObjectNode();
            final ObjectNode training = root.with("services").with("memory").with("training");
            if (!training.has("enforce")) {
                training.put("enforce", false);
            }
            Files.createDirectories(file.getParent());
            Files.writeString(file, JSON.writeValueAsString(root));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A stub that calls as {@code user} of {@code tenant} with {@code role}, by an access token. */
    MemoryServiceBlockingStub as(String tenant, String user, Role role) {
        return extension.stub(MemoryServiceGrpc::newBlockingStub, token(tenant, user, role));
    }

    /** An access token of {@code user} of {@code tenant} with {@code role}. */
    String token(String tenant, String user, Role role) {
        return extension.token(tenant, user, role);
    }

    /** A REST client that calls as a Sonia service acting for itself (its credential lives a minute). */
    WebClient serviceWeb() {
        return extension.rest(extension.serviceToken("memory-test"));
    }

    /** A REST client that calls as {@code user} of {@code tenant} with {@code role}. */
    WebClient web(String tenant, String user, Role role) {
        return extension.rest(token(tenant, user, role));
    }

    /** A server over a new, empty ledger. */
    static MemoryTestServer fresh(String name) {
        return new MemoryTestServer(TestHomes.create("memory-" + name));
    }

    /** A server over a new, empty ledger, with a {@code services.memory} configuration section. */
    static MemoryTestServer fresh(String name, String memorySection) {
        final Path home = TestHomes.create("memory-" + name);
        try {
            Files.createDirectories(home.resolve("config"));
            Files.writeString(home.resolve("config/sonia.json"),
                              "{\"services\":{\"memory\":" + memorySection + "}}");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new MemoryTestServer(home);
    }

    /** A server over the ledger another server left in {@code home}. */
    static MemoryTestServer reopen(Path home) {
        return new MemoryTestServer(home);
    }

    String uri() {
        return extension.httpUri().toString();
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
        extension.close();
    }
}
