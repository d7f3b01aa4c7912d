package ai.sonia.router;

import static ai.sonia.runtime.testing.StatusDetails.badRequest;
import static ai.sonia.runtime.testing.StatusDetails.errorInfo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.function.Consumer;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.MediaType;

import ai.sonia.router.v1.ChatRequest;
import ai.sonia.router.v1.EmbedRequest;
import ai.sonia.router.v1.ForecastUsageRequest;
import ai.sonia.router.v1.GetUsageRequest;
import ai.sonia.router.v1.ListModelsRequest;
import ai.sonia.router.v1.RouterServiceGrpc.RouterServiceBlockingStub;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * A request the router cannot accept is INVALID_ARGUMENT naming the field, over gRPC (ErrorInfo of
 * router.sonia.ai and a BadRequest violation) and over REST (HTTP 400 and the envelope's INVALID_ARGUMENT):
 * one mapping, the runtime's, for every method.
 */
class BadArgumentsTest {

    private static RouterFixture router;

    @BeforeAll
    static void start() {
        router = new RouterFixture("{\"deployments\":[{\"name\":\"extractive\",\"provider\":\"extractive\"}],"
                                   + "\"aliases\":{\"default\":[\"extractive\"]}}");
    }

    @AfterAll
    static void stop() {
        router.close();
    }

    static Stream<Arguments> badRequests() {
        return Stream.of(
                bad("messages", s -> s.chat(ChatRequest.getDefaultInstance()),
                    HttpMethod.POST, "/v1/chat:complete", "{\"messages\":[]}"),
                bad("model", s -> s.chat(Requests.ask("no-such-model", "hi")),
                    HttpMethod.POST, "/v1/chat:complete",
                    "{\"model\":\"no-such-model\",\"messages\":[{\"role\":\"ROLE_USER\",\"content\":\"hi\"}]}"),
                bad("temperature", s -> s.chat(Requests.ask("", "hi").toBuilder().setTemperature(3).build()),
                    HttpMethod.POST, "/v1/chat:complete",
                    "{\"temperature\":3,\"messages\":[{\"role\":\"ROLE_USER\",\"content\":\"hi\"}]}"),
                bad("inputs[0]", s -> s.embed(EmbedRequest.newBuilder().addInputs(" ").build()),
                    HttpMethod.POST, "/v1/embeddings", "{\"inputs\":[\" \"]}"),
                bad("page_size", s -> s.listModels(ListModelsRequest.newBuilder().setPageSize(-1).build()),
                    HttpMethod.GET, "/v1/models?page_size=-1", null),
                bad("start_day", s -> s.getUsage(GetUsageRequest.newBuilder().setStartDay("2026-13-01").build()),
                    HttpMethod.GET, "/v1/usage?start_day=2026-13-01", null),
                bad("horizon_days", s -> s.forecastUsage(ForecastUsageRequest.newBuilder().setHorizonDays(999).build()),
                    HttpMethod.GET, "/v1/usage:forecast?horizon_days=999", null));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badRequests")
    void aBadArgumentIsInvalidArgumentOverGrpc(String field, Consumer<RouterServiceBlockingStub> call,
                                               HttpMethod method, String path, String body) {
        assertThatThrownBy(() -> call.accept(router.stub)).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
            assertThat(badRequest(e).getFieldViolations(0).getField()).isEqualTo(field);
            assertThat(errorInfo(e).getReason()).isEqualTo("INVALID_ARGUMENT");
            assertThat(errorInfo(e).getDomain()).isEqualTo("router.sonia.ai");
        });
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badRequests")
    void aBadArgumentIsInvalidArgumentOverRest(String field, Consumer<RouterServiceBlockingStub> call,
                                               HttpMethod method, String path, String body) throws Exception {
        final HttpRequest request = body == null ? HttpRequest.of(method, path)
                                                 : HttpRequest.of(method, path, MediaType.JSON, body);
        final AggregatedHttpResponse response = router.web().execute(request).aggregate().join();
        assertThat(response.status().code()).isEqualTo(400);
        final JsonNode error = new ObjectMapper().readTree(response.contentUtf8()).path("error");
        assertThat(error.path("code").asText()).isEqualTo("INVALID_ARGUMENT");
        assertThat(error.path("details").path("field_violations").path(0).path("field").asText()).isEqualTo(field);
        assertThat(error.path("details").path("domain").asText()).isEqualTo("router.sonia.ai");
    }

    private static Arguments bad(String field, Consumer<RouterServiceBlockingStub> call, HttpMethod method,
                                 String path, String body) {
        return Arguments.of(field, call, method, path, body);
    }
}
