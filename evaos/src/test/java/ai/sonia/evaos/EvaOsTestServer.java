package ai.sonia.evaos;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;

import com.linecorp.armeria.client.WebClient;

import ai.sonia.common.v1.Role;
import ai.sonia.evaos.v1.EvaOsServiceGrpc;
import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.testing.TestCredentials;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;

/**
 * A real EVA-OS server on a free loopback port, with its own SQLite under target/, and tokens signed with
 * its home's keys. {@link #stub()} calls as the admin of tenant "default".
 */
final class EvaOsTestServer implements AutoCloseable {

    final SoniaServer server;
    final ManagedChannel channel;
    final Path home;
    final StackConfig config;

    EvaOsTestServer(String evaosSection) {
        this(newHome(evaosSection));
    }

    /** Reopens a server on an existing home (its config and SQLite). */
    EvaOsTestServer(Path home) {
        this.home = home;
        config = StackConfig.load(Map.of("SONIA_HOME", home.toString())).withPorts(Map.of("evaos", 0));
        server = new EvaOsModule().newServer(config).start();
        channel = ManagedChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
    }

    private static Path newHome(String evaosSection) {
        final Path home = Path.of("target", "test-home-evaos-" + UUID.randomUUID()).toAbsolutePath();
        try {
            Files.createDirectories(home.resolve("config"));
            Files.writeString(home.resolve("config/sonia.json"),
                              "{\"services\":{\"evaos\":" + evaosSection + "}}");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return home;
    }

    /** An access token of {@code user} in {@code tenant}. */
    String token(String tenant, String user, Role role) {
        return TestCredentials.token(config, tenant, user, role);
    }

    /** Calls as the admin of tenant "default". */
    EvaOsServiceGrpc.EvaOsServiceBlockingStub stub() {
        return stub(TestCredentials.adminToken(config));
    }

    EvaOsServiceGrpc.EvaOsServiceBlockingStub stub(String token) {
        return EvaOsServiceGrpc.newBlockingStub(channel).withInterceptors(TestCredentials.bearer(token));
    }

    EvaOsServiceGrpc.EvaOsServiceStub asyncStub() {
        return asyncStub(TestCredentials.adminToken(config));
    }

    EvaOsServiceGrpc.EvaOsServiceStub asyncStub(String token) {
        return EvaOsServiceGrpc.newStub(channel).withInterceptors(TestCredentials.bearer(token));
    }

    /** The REST surface, sending {@code token}. */
    WebClient rest(String token) {
        return TestCredentials.webClient("http://127.0.0.1:" + server.port(), token);
    }

    @Override
    public void close() {
        channel.shutdownNow();
        server.close();
    }
}
