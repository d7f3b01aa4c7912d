package ai.sonia.evaos;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;

import ai.sonia.evaos.v1.EvaOsServiceGrpc;
import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.StackConfig;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;

/** A real EVA-OS server on a free loopback port, with its own SQLite under target/. */
final class EvaOsTestServer implements AutoCloseable {

    final SoniaServer server;
    final ManagedChannel channel;
    final Path home;

    EvaOsTestServer(String evaosSection) {
        this(newHome(evaosSection));
    }

    /** Reopens a server on an existing home (its config and SQLite). */
    EvaOsTestServer(Path home) {
        this.home = home;
        server = new EvaOsModule().newServer(StackConfig.load(Map.of("SONIA_HOME", home.toString()))
                                                        .withPorts(Map.of("evaos", 0))).start();
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

    EvaOsServiceGrpc.EvaOsServiceBlockingStub stub() {
        return EvaOsServiceGrpc.newBlockingStub(channel);
    }

    EvaOsServiceGrpc.EvaOsServiceStub asyncStub() {
        return EvaOsServiceGrpc.newStub(channel);
    }

    @Override
    public void close() {
        channel.shutdownNow();
        server.close();
    }
}
