package ai.sonia.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.common.AggregatedHttpResponse;

import ai.sonia.runtime.client.SoniaChannels;
import ai.sonia.runtime.testing.ReflectionClient;
import ai.sonia.runtime.testing.TestCredentials;
import ai.sonia.runtime.testing.TestHomes;
import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;

/** Everything the boot contract says a service serves, on a real server on a free port. */
class SoniaServerEndpointsTest {

    private static final ObjectMapper mapper = new ObjectMapper();
    private static SoniaServer server;
    private static WebClient http;
    private static ManagedChannel channel;

    @BeforeAll
    static void start() {
        final StackConfig config = TestHomes.config("endpoints", "evaos");
        server = SoniaServer.builder(Stack.EVAOS, config)
                            .addService(new ai.sonia.evaos.v1.EvaOsServiceGrpc.EvaOsServiceImplBase() {})
                            .dependency(Stack.MEMORY)
                            .configSummary("answer", 42)
                            .build().start();
        final String token = TestCredentials.adminToken(config);
        http = TestCredentials.webClient("http://127.0.0.1:" + server.port(), token);
        channel = SoniaChannels.forTarget("127.0.0.1:" + server.port(), Stack.EVAOS, TestCredentials.bearer(token));
    }

    @AfterAll
    static void stop() {
        SoniaChannels.close(channel);
        server.close();
    }

    @Test
    void healthzHasTheContractShape() throws Exception {
        final AggregatedHttpResponse response = http.get("/healthz").aggregate().join();
        assertThat(response.status().code()).isEqualTo(200);
        final JsonNode body = mapper.readTree(response.contentUtf8());
        assertThat(body.size()).isEqualTo(3);
        assertThat(body.get("ok").asBoolean()).isTrue();
        assertThat(body.get("service").asText()).isEqualTo("evaos");
        final String timestamp = body.get("timestamp").asText();
        assertThat(timestamp).endsWith("Z");
        assertThat(Instant.parse(timestamp)).isBetween(Instant.now().minusSeconds(60), Instant.now().plusSeconds(1));
    }

    @Test
    void rootAndStatusDescribeTheServiceAndProbeDependencies() throws Exception {
        final JsonNode root = mapper.readTree(http.get("/").aggregate().join().contentUtf8());
        assertThat(root.at("/data/service").asText()).isEqualTo("evaos");
        assertThat(root.at("/data/port").asInt()).isEqualTo(server.port());

        final JsonNode status = mapper.readTree(http.get("/status").aggregate().join().contentUtf8());
        assertThat(status.get("ok").asBoolean()).isTrue();
        assertThat(status.at("/data/version").asText()).isNotEmpty();
        assertThat(status.at("/data/config/answer").asText()).isEqualTo("42");
        assertThat(status.at("/data/grpc_services").toString()).contains("sonia.evaos.v1.EvaOsService",
                                                                           "grpc.health.v1.Health");
        // Nothing listens on the memory target of this fresh config (port 7020 + no offset is not ours
        // to assume), so the probe reports it, with a reason, instead of failing the status.
        final JsonNode memory = status.at("/data/dependencies/0");
        assertThat(memory.get("name").asText()).isEqualTo("memory");
        assertThat(memory.has("ok")).isTrue();
    }

    @Test
    void grpcHealthSaysServing() {
        final HealthCheckResponse response = HealthGrpc.newBlockingStub(channel)
                                                       .check(HealthCheckRequest.getDefaultInstance());
        assertThat(response.getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
    }

    @Test
    void reflectionV1AndV1AlphaListTheServices() {
        final List<String> v1 = ReflectionClient.listServicesV1(channel);
        final List<String> v1alpha = ReflectionClient.listServicesV1Alpha(channel);
        assertThat(v1).contains("sonia.evaos.v1.EvaOsService", "grpc.health.v1.Health");
        assertThat(v1alpha).contains("sonia.evaos.v1.EvaOsService");
        assertThat(ReflectionClient.fileContainingSymbolV1(channel, "sonia.evaos.v1.EvaOsService"))
                .isEqualTo("sonia/evaos/v1/evaos_service.proto");
    }

    @Test
    void metricsAreInPrometheusTextFormat() {
        http.get("/healthz").aggregate().join();
        final AggregatedHttpResponse metrics = http.get("/metrics").aggregate().join();
        assertThat(metrics.status().code()).isEqualTo(200);
        assertThat(metrics.contentUtf8()).contains("# TYPE").contains("sonia_server_requests");
    }

    @Test
    void docsServeTheDocService() {
        assertThat(http.get("/docs/").aggregate().join().status().code()).isEqualTo(200);
        final AggregatedHttpResponse specification = http.get("/docs/specification.json").aggregate().join();
        assertThat(specification.contentUtf8()).contains("sonia.evaos.v1.EvaOsService");
    }

    @Test
    void grpcWebIsServed() {
        // A gRPC-Web frame: uncompressed flag 0, length 0 (an empty HealthCheckRequest).
        final AggregatedHttpResponse response = http.execute(
                com.linecorp.armeria.common.RequestHeaders.of(
                        com.linecorp.armeria.common.HttpMethod.POST, "/grpc.health.v1.Health/Check",
                        "content-type", "application/grpc-web+proto", "x-grpc-web", "1"),
                new byte[] {0, 0, 0, 0, 0}).aggregate().join();
        assertThat(response.status().code()).isEqualTo(200);
        assertThat(response.contentType().toString()).startsWith("application/grpc-web");
    }
}
