package ai.sonia.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.RequestHeaders;

import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.testing.EmbeddedPostgresExtension;
import ai.sonia.runtime.testing.TestHomes;

/**
 * Two gateway replicas making their first start at once on one PostgreSQL (no user yet, generated passwords):
 * both start, one admin is made, and only its maker writes {@code secrets/admin-password}, whose password works
 * through either replica (the other once wrote its own there and then failed to start: ClusterIT found it).
 */
class FirstAdminAcrossReplicasTest {

    @RegisterExtension
    static final EmbeddedPostgresExtension postgres = new EmbeddedPostgresExtension();

    @Test
    void twoReplicasStartingAtOnceMakeOneAdminAndOnePasswordFile() throws Exception {
        final List<StackConfig> configs = List.of(config(), config());
        final List<CompletableFuture<SoniaServer>> starting = configs.stream().map(config -> CompletableFuture.supplyAsync(
                () -> new GatewayModule().newServer(config).start())).toList();
        final List<SoniaServer> replicas = starting.stream().map(CompletableFuture::join).toList();
        try {
            final List<Path> files = configs.stream().map(c -> c.home().resolve("secrets/admin-password"))
                                            .filter(Files::exists).toList();
            assertThat(files).hasSize(1);
            for (StackConfig config : configs) {
                try (Stream<Path> left = Files.list(config.home().resolve("secrets"))) {
                    assertThat(left).noneMatch(p -> p.getFileName().toString().endsWith(".pending"));
                }
            }
            final String password = Files.readString(files.get(0)).trim();
            for (SoniaServer replica : replicas) {
                assertThat(WebClient.of("http://127.0.0.1:" + replica.port())
                                    .execute(RequestHeaders.builder(HttpMethod.POST, "/api/auth/login")
                                                           .contentType(MediaType.JSON_UTF_8).build(),
                                             "{\"username\":\"admin\",\"password\":\"" + password + "\"}")
                                    .aggregate().join().status().code()).isEqualTo(200);
            }
        } finally {
            replicas.forEach(SoniaServer::close);
        }
    }

    private static StackConfig config() {
        try {
            final Path password = TestHomes.create("postgres-password").resolve("password");
            Files.writeString(password, "s3cret\n");
            Files.setPosixFilePermissions(password, PosixFilePermissions.fromString("rw-------"));
            return GatewayHomes.gateway("first-admin", "{}",
                                        "\"store\":{\"engine\":\"postgres\",\"postgres\":{\"url\":\"" + postgres.url()
                                        + "\",\"user\":\"postgres\",\"passwordFile\":\"" + password + "\"}},",
                                        AccountsTest.NOWHERE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
