package ai.sonia.runtime.status;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.common.AggregatedHttpResponse;

import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.Stack;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.store.Sqlite;
import ai.sonia.runtime.store.StoreHealth;
import ai.sonia.runtime.testing.TestHomes;

/** {@code /livez}, {@code /readyz} and the seed's {@code /health}, {@code /ready}, in each state, without a credential. */
class ProbesTest {

    private static final ObjectMapper mapper = new ObjectMapper();
    private SoniaServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private WebClient start(StackConfig config, SoniaServer.Builder builder) {
        server = builder.build().start();
        return WebClient.of("http://127.0.0.1:" + server.port()); // no credential
    }

    @Test
    void aServiceWithNothingPendingIsLiveAndReady() throws Exception {
        final StackConfig config = TestHomes.config("probes-ready", "evaos");
        final WebClient http = start(config, builder(config));
        for (String path : new String[] { "/livez", "/health" }) {
            final AggregatedHttpResponse live = http.get(path).aggregate().join();
            assertThat(live.status().code()).as(path).isEqualTo(200);
            assertThat(mapper.readTree(live.contentUtf8()).get("ok").asBoolean()).isTrue();
        }
        for (String path : new String[] { "/readyz", "/ready" }) {
            final JsonNode ready = json(http, path, 200);
            assertThat(ready.get("ok").asBoolean()).isTrue();
            assertThat(ready.get("service").asText()).isEqualTo("evaos");
            assertThat(ready.get("reasons")).isEmpty();
        }
    }

    @Test
    void anIndexStillBuildingMakesItUnreadyButLive() throws Exception {
        final StackConfig config = TestHomes.config("probes-index", "evaos");
        final AtomicReference<String> index = new AtomicReference<>("the vector index is loading");
        final WebClient http = start(config, builder(config).readinessCheck("index", index::get));
        final JsonNode unready = json(http, "/readyz", 503);
        assertThat(unready.get("ok").asBoolean()).isFalse();
        assertThat(unready.get("reasons").get(0).asText()).isEqualTo("the vector index is loading");
        assertThat(http.get("/livez").aggregate().join().status().code()).isEqualTo(200);
        assertThat(json(http, "/ready", 503).get("ok").asBoolean()).isFalse();
        index.set(null);
        assertThat(json(http, "/readyz", 200).get("ok").asBoolean()).isTrue();
    }

    @Test
    void aRequiredDependencyDownMakesItUnready() throws Exception {
        // Memory is on a free port where nothing listens.
        final StackConfig config = TestHomes.config("probes-deps", "evaos", "memory");
        final WebClient http = start(config, builder(config).requiredDependency(Stack.MEMORY));
        final JsonNode unready = json(http, "/readyz", 503);
        assertThat(unready.get("reasons").get(0).asText()).startsWith("required dependency memory is down: UNAVAILABLE");
        assertThat(http.get("/livez").aggregate().join().status().code()).isEqualTo(200);
    }

    @Test
    void aStoreThatCannotWriteMakesItUnreadyUntilAWriteSucceeds() throws Exception {
        final StackConfig config = TestHomes.config("probes-store", "evaos");
        final Path file = config.dataDir("evaos").resolve("approvals.db");
        try (Connection ignored = Sqlite.open(file); StoreHealth health = new StoreHealth(file)) {
            final WebClient http = start(config, builder(config));
            assertThat(json(http, "/readyz", 200).get("ok").asBoolean()).isTrue();
            // As a store does when SQLite says "disk I/O error"; the disk itself is fine, so the probe's
            // write succeeds and the service is ready again by itself.
            health.failed("disk I/O error");
            assertThat(json(http, "/readyz", 503).get("reasons").get(0).asText())
                    .isEqualTo("approvals.db cannot be written: disk I/O error");
            Awaitility.await().atMost(Duration.ofSeconds(10))
                      .until(() -> http.get("/readyz").aggregate().join().status().code() == 200);
        }
    }

    private static SoniaServer.Builder builder(StackConfig config) {
        return SoniaServer.builder(Stack.EVAOS, config)
                          .addService(new ai.sonia.evaos.v1.EvaOsServiceGrpc.EvaOsServiceImplBase() {});
    }

    private static JsonNode json(WebClient http, String path, int status) throws Exception {
        final AggregatedHttpResponse response = http.get(path).aggregate().join();
        assertThat(response.status().code()).as(path + ": " + response.contentUtf8()).isEqualTo(status);
        assertThat(response.contentType().toString()).startsWith("application/json");
        return mapper.readTree(response.contentUtf8());
    }
}
