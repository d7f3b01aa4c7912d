package ai.sonia.runtime.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.common.AggregatedHttpResponse;

import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.Stack;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.testing.TestCredentials;
import ai.sonia.runtime.testing.TestHomes;

/** A Prometheus scraper reads /metrics with the metrics token, owner-only on disk, which opens nothing else. */
class MetricsTokenTest {

    private static StackConfig config;
    private static SoniaServer server;
    private static String base;

    @BeforeAll
    static void start() {
        config = TestHomes.config("metrics-token", "memory");
        server = SoniaServer.builder(Stack.MEMORY, config).build().start();
        base = "http://127.0.0.1:" + server.port();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static AggregatedHttpResponse get(String path, String bearer) {
        return WebClient.builder(base).addHeader("authorization", "Bearer " + bearer).build()
                        .get(path).aggregate().join();
    }

    @Test
    void theGeneratedTokenFileIsOwnerOnlyAndReadsMetricsInPrometheusText() throws Exception {
        final Path file = config.home().resolve("secrets/metrics-token");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        final String token = Files.readString(file).trim(); // what a scraper's credentials_file holds
        final AggregatedHttpResponse metrics = get("/metrics", token);
        assertThat(metrics.status().code()).isEqualTo(200);
        assertThat(metrics.contentUtf8()).contains("# TYPE ").contains("# HELP ");
        assertThat(get("/status", token).status().code()).isEqualTo(401);
        assertThat(get("/v1/memories/a", token).status().code()).isEqualTo(401);
    }

    @Test
    void withoutItOrWithAnotherTokenMetricsAreClosed() {
        assertThat(WebClient.of(base).get("/metrics").aggregate().join().status().code()).isEqualTo(401);
        assertThat(get("/metrics", "c29tZXRoaW5nIGVsc2UgZW50aXJlbHkgMzIgYnl0ZXMgbG9uZyE=").status().code())
                .isEqualTo(401);
        // A user's access token still reads it, as before.
        assertThat(get("/metrics", TestCredentials.adminToken(config)).status().code()).isEqualTo(200);
    }

    @Test
    void theTokenCanComeFromTheEnvironment() {
        final String token = "bWV0cmljcy10b2tlbi1mcm9tLXRoZS1lbnZpcm9ubWVudCE=";
        final StackConfig fromEnv = TestHomes.config("metrics-env", "memory")
                                             .withEnv(Map.of("SONIA_METRICS_TOKEN", token));
        try (SoniaServer other = SoniaServer.builder(Stack.MEMORY, fromEnv).build().start()) {
            final AggregatedHttpResponse metrics =
                    WebClient.builder("http://127.0.0.1:" + other.port()).addHeader("authorization", "Bearer " + token)
                             .build().get("/metrics").aggregate().join();
            assertThat(metrics.status().code()).isEqualTo(200);
            assertThat(Files.exists(fromEnv.home().resolve("secrets/metrics-token"))).isFalse();
        }
    }
}
