package ai.sonia.runtime.edge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import com.google.rpc.ErrorInfo;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.RequestHeaders;

import ai.sonia.memory.v1.GetMemoryRequest;
import ai.sonia.memory.v1.MemoryServiceGrpc;
import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.Stack;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.client.SoniaChannels;
import ai.sonia.runtime.testing.Rest;
import ai.sonia.runtime.testing.TestCredentials;
import ai.sonia.runtime.testing.TestHomes;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;

/** The REST edge renders every outcome as the envelope, and gRPC keeps its own status model. */
class EnvelopeEdgeTest {

    private static final ObjectMapper mapper = new ObjectMapper();
    private static SoniaServer server;
    private static WebClient rest;
    private static ManagedChannel channel;

    @BeforeAll
    static void start() {
        final StackConfig config = TestHomes.config("edge", "memory");
        server = SoniaServer.builder(Stack.MEMORY, config)
                            .addService(new ScriptedMemoryService())
                            .build().start();
        final String token = TestCredentials.adminToken(config);
        rest = TestCredentials.webClient("http://127.0.0.1:" + server.port(), token);
        channel = SoniaChannels.forTarget("127.0.0.1:" + server.port(), Stack.MEMORY, TestCredentials.bearer(token));
    }

    @AfterAll
    static void stop() {
        SoniaChannels.close(channel);
        server.close();
    }

    @ParameterizedTest
    @CsvSource({
            "INVALID_ARGUMENT,  400, INVALID_ARGUMENT",
            "NOT_FOUND,         404, NOT_FOUND",
            "TIMEOUT,           504, DEADLINE_EXCEEDED",
            "UNAVAILABLE,       503, UNAVAILABLE",
            "POLICY_DENIED,     403, PERMISSION_DENIED",
            "APPROVAL_REQUIRED, 403, PERMISSION_DENIED",
            "UNAUTHENTICATED,   401, UNAUTHENTICATED",
            "PERMISSION_DENIED, 403, PERMISSION_DENIED",
            "RATE_LIMITED,      429, RESOURCE_EXHAUSTED",
            "CONFLICT,          409, FAILED_PRECONDITION",
            "INTERNAL_ERROR,    500, INTERNAL",
    })
    void everyErrorCodeIsTheSameErrorOverRestAndGrpc(String code, int http, Status.Code grpc) throws Exception {
        final AggregatedHttpResponse response = rest.get("/v1/memories/" + code).aggregate().join();
        assertThat(response.status().code()).isEqualTo(http);
        final JsonNode envelope = mapper.readTree(response.contentUtf8());
        assertThat(envelope.get("ok").asBoolean()).isFalse();
        assertThat(envelope.get("service").asText()).isEqualTo("memory");
        assertThat(envelope.get("operation").asText()).isEqualTo("sonia.memory.v1.MemoryService/GetMemory");
        assertThat(envelope.get("error").get("code").asText()).isEqualTo(code);
        assertThat(envelope.get("error").get("details").get("reason").asText()).isEqualTo(code);
        assertThat(envelope.get("error").get("details").get("domain").asText()).isEqualTo(ScriptedMemoryService.DOMAIN);
        assertThat(envelope.has("data")).isFalse();

        final var stub = MemoryServiceGrpc.newBlockingStub(channel);
        assertThatThrownBy(() -> stub.getMemory(GetMemoryRequest.newBuilder().setName("memories/" + code).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(grpc);
                    final com.google.rpc.Status details = StatusProto.fromThrowable(e);
                    assertThat(details).isNotNull();
                    assertThat(details.getDetailsList()).anySatisfy(any -> {
                        assertThat(any.is(ErrorInfo.class)).isTrue();
                        assertThat(any.unpack(ErrorInfo.class).getReason()).isEqualTo(code);
                    });
                });
    }

    @Test
    void successIsWrappedWithDataInProtoFieldNames() throws Exception {
        final AggregatedHttpResponse response = rest.get("/v1/memories/ok").aggregate().join();
        assertThat(response.status().code()).isEqualTo(200);
        final JsonNode envelope = mapper.readTree(response.contentUtf8());
        assertThat(envelope.get("ok").asBoolean()).isTrue();
        assertThat(envelope.get("data").get("name").asText()).isEqualTo("memories/ok");
        assertThat(envelope.get("data").has("access_count")).isTrue(); // snake_case, defaults printed
        assertThat(envelope.has("error")).isFalse();
        assertThat(envelope.get("duration_ms").isNumber()).isTrue();
        assertThat(envelope.get("correlation_id").asText()).isNotEmpty()
                                                           .isEqualTo(response.headers().get("x-correlation-id"));
    }

    @Test
    void textInTheEnvelopeReadsAsWritten() {
        // protobuf's JsonFormat escapes ' < > & = as \\u00XX; the envelope undoes it for people reading it.
        final String body = rest.get("/v1/memories/quote").aggregate().join().contentUtf8();
        assertThat(body).contains("\"text\":\"Ann's locker & <b>=1</b>\"");
    }

    @Test
    void validationErrorsNameTheField() throws Exception {
        final JsonNode envelope = mapper.readTree(rest.get("/v1/memories/INVALID_ARGUMENT").aggregate().join().contentUtf8());
        assertThat(envelope.at("/error/details/field_violations/0/field").asText()).isEqualTo("name");
        assertThat(envelope.at("/error/details/metadata/field").asText()).isEqualTo("name");
    }

    @Test
    void anUnexpectedExceptionIsInternalWithoutLeakingItsMessage() throws Exception {
        final AggregatedHttpResponse response = rest.get("/v1/memories/crash").aggregate().join();
        assertThat(response.status().code()).isEqualTo(500);
        final JsonNode envelope = mapper.readTree(response.contentUtf8());
        assertThat(envelope.at("/error/code").asText()).isEqualTo("INTERNAL_ERROR");
        assertThat(response.contentUtf8()).doesNotContain("secret internal detail");
    }

    @Test
    void unimplementedMethodsAnswer501Honestly() throws Exception {
        final AggregatedHttpResponse response = rest.get("/v1/memories:stats").aggregate().join();
        assertThat(response.status().code()).isEqualTo(501);
        assertThat(mapper.readTree(response.contentUtf8()).at("/error/code").asText()).isEqualTo("INTERNAL_ERROR");
    }

    @ParameterizedTest
    @CsvSource({"/nope", "/v2/memories", "/v1/memories/a/b/c"})
    void unknownRoutesAnswerAnEnvelope404(String path) throws Exception {
        final AggregatedHttpResponse response = rest.get(path).aggregate().join();
        assertThat(response.status().code()).isEqualTo(404);
        final JsonNode envelope = mapper.readTree(response.contentUtf8());
        assertThat(envelope.get("ok").asBoolean()).isFalse();
        assertThat(envelope.at("/error/code").asText()).isEqualTo("NOT_FOUND");
        assertThat(envelope.get("correlation_id").asText()).isNotEmpty();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "{not json",
            "{\"query\": 42, \"scope\": []}",
            "{\"qeury\": \"typo\"}",
            "[1,2,3]",
            "{\"query\" 1}",
            "{\"query\":",
            "{\"query\": \"q\", \"top_k\": \"many\"}",
    })
    void malformedBodiesAnswerAnEnvelope400(String body) throws Exception {
        final AggregatedHttpResponse response = Rest.postJson(rest, "/v1/memories:search", body);
        assertThat(response.status().code()).isEqualTo(400);
        final JsonNode envelope = mapper.readTree(response.contentUtf8());
        assertThat(envelope.at("/error/code").asText()).isEqualTo("INVALID_ARGUMENT");
        assertThat(envelope.at("/error/message").asText()).startsWith("malformed request");
        // What was wrong with the input, never which library noticed it.
        assertThat(envelope.at("/error/message").asText())
                .doesNotContainPattern("\\b(com|java|javax|org|io|sun|jdk)\\.[a-z]")
                .doesNotContainIgnoringCase("gson").doesNotContainIgnoringCase("jackson")
                .doesNotContain("Exception");
    }

    @Test
    void aMethodTheRouteDoesNotTakeIs405WithItsOwnCode() throws Exception {
        final AggregatedHttpResponse response = rest.get("/v1/memories:search").aggregate().join();
        assertThat(response.status().code()).isEqualTo(405);
        final JsonNode envelope = mapper.readTree(response.contentUtf8());
        assertThat(envelope.get("ok").asBoolean()).isFalse();
        assertThat(envelope.at("/error/code").asText()).isEqualTo("METHOD_NOT_ALLOWED");
        assertThat(envelope.at("/error/message").asText()).contains("GET");
        assertThat(envelope.get("correlation_id").asText()).isNotEmpty();
    }

    @Test
    void clientMessagesLoseLibraryClassNamesButKeepWhatWasWrong() {
        assertThat(Envelopes.clientMessage(
                "com.google.gson.stream.MalformedJsonException: Expected ':' at line 1 column 7 path $.x\n"
                + "See https://github.com/google/gson/blob/main/Troubleshooting.md#malformed-json"))
                .isEqualTo("Expected ':' at line 1 column 7 path $.x");
        assertThat(Envelopes.clientMessage("malformed request: com.google.protobuf.InvalidProtocolBufferException: "
                                           + "java.io.EOFException: End of input at line 1 column 6 path $.a"))
                .isEqualTo("malformed request: End of input at line 1 column 6 path $.a");
        assertThat(Envelopes.clientMessage("Cannot deserialize value of type `java.lang.String` from Array"))
                .isEqualTo("Cannot deserialize value of type `String` from Array");
        // Proto names are the contract's, not a library's: they stay.
        assertThat(Envelopes.clientMessage("Cannot find field: qeury in message sonia.memory.v1.SearchMemoriesRequest"))
                .isEqualTo("Cannot find field: qeury in message sonia.memory.v1.SearchMemoriesRequest");
    }

    @Test
    void aSentCorrelationIdIsEchoedAndSeenByTheService() throws Exception {
        final AggregatedHttpResponse response = rest.execute(
                RequestHeaders.of(HttpMethod.POST, "/v1/memories:search", "content-type", MediaType.JSON_UTF_8,
                                  "x-correlation-id", "req-42"),
                "{\"query\":\"q\"}").aggregate().join();
        assertThat(response.headers().get("x-correlation-id")).isEqualTo("req-42");
        final JsonNode envelope = mapper.readTree(response.contentUtf8());
        assertThat(envelope.get("correlation_id").asText()).isEqualTo("req-42");
        assertThat(envelope.at("/data/hits/0/memory/text").asText()).isEqualTo("req-42");
    }

    @Test
    void anUnsafeCorrelationIdIsReplacedByAGeneratedOne() {
        final AggregatedHttpResponse response = rest.execute(
                RequestHeaders.of(HttpMethod.GET, "/v1/memories/ok", "x-correlation-id", "a\"b c{}")).aggregate().join();
        assertThat(response.headers().get("x-correlation-id")).isNotEqualTo("a\"b c{}").hasSize(36);
        final java.util.UUID generated = java.util.UUID.fromString(response.headers().get("x-correlation-id"));
        assertThat(generated.version()).isEqualTo(4);
        assertThat(generated.variant()).isEqualTo(2);
    }
}
