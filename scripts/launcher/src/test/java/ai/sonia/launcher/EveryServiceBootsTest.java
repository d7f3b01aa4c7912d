package ai.sonia.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import com.linecorp.armeria.client.WebClient;

import ai.sonia.runtime.ServiceModule;
import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.client.SoniaChannels;
import ai.sonia.runtime.testing.ReflectionClient;
import ai.sonia.runtime.testing.TestCredentials;
import ai.sonia.runtime.testing.TestHomes;
import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;

/** Each of the six services, as its module wires it, serves the whole boot contract. */
class EveryServiceBootsTest {

    private static final ObjectMapper mapper = new ObjectMapper();

    static Stream<ServiceModule> modules() {
        final Map<String, ServiceModule> modules = StackMain.modules();
        assertThat(modules.keySet()).containsExactly("gateway", "router", "memory", "pipecat", "openclaw", "evaos");
        return modules.values().stream();
    }

    @ParameterizedTest
    @MethodSource("modules")
    void servesHealthzStatusReflectionHealthAndMetrics(ServiceModule module) throws Exception {
        final String name = module.spec().name();
        final StackConfig config = TestHomes.config("boot-" + name, name);
        try (SoniaServer server = module.newServer(config).start()) {
            final String token = TestCredentials.adminToken(config);
            final WebClient http = TestCredentials.webClient("http://127.0.0.1:" + server.port(), token);

            final JsonNode healthz = mapper.readTree(http.get("/healthz").aggregate().join().contentUtf8());
            assertThat(healthz.get("ok").asBoolean()).isTrue();
            assertThat(healthz.get("service").asText()).isEqualTo(name);
            assertThat(Instant.parse(healthz.get("timestamp").asText())).isBeforeOrEqualTo(Instant.now());

            final JsonNode status = mapper.readTree(http.get("/status").aggregate().join().contentUtf8());
            assertThat(status.at("/data/service").asText()).isEqualTo(name);
            assertThat(status.at("/data/grpc_services").toString()).contains(module.spec().grpcServiceName());

            assertThat(http.get("/metrics").aggregate().join().contentUtf8()).contains("# TYPE");
            assertThat(http.get("/docs/").aggregate().join().status().code()).isEqualTo(200);

            final ManagedChannel channel = SoniaChannels.forTarget("127.0.0.1:" + server.port(), module.spec(),
                                                                   TestCredentials.bearer(token));
            try {
                assertThat(HealthGrpc.newBlockingStub(channel).check(HealthCheckRequest.getDefaultInstance())
                                     .getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
                final List<String> services = ReflectionClient.listServicesV1(channel);
                assertThat(services).contains(module.spec().grpcServiceName(), "grpc.health.v1.Health",
                                              "grpc.reflection.v1.ServerReflection",
                                              "grpc.reflection.v1alpha.ServerReflection");
                assertThat(ReflectionClient.listServicesV1Alpha(channel)).contains(module.spec().grpcServiceName());
            } finally {
                SoniaChannels.close(channel);
            }
        }
    }
}
