package ai.sonia.runtime.errors;

import static ai.sonia.runtime.testing.StatusDetails.detail;
import static ai.sonia.runtime.testing.StatusDetails.errorInfo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Iterator;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import com.google.rpc.BadRequest;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.RequestHeaders;

import ai.sonia.common.v1.ErrorCode;
import ai.sonia.router.v1.ChatRequest;
import ai.sonia.router.v1.ChatResponse;
import ai.sonia.router.v1.RouterServiceGrpc;
import ai.sonia.router.v1.StreamChatRequest;
import ai.sonia.router.v1.StreamChatResponse;
import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.Stack;
import ai.sonia.runtime.testing.SoniaServiceExtension;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;

/**
 * A {@link DomainException} thrown by any gRPC method (unary or streaming, thrown or passed to
 * {@code onError}) leaves with its code, ErrorInfo in the service's domain and, for an invalid argument,
 * BadRequest; over REST it is the same error in the envelope. No service maps it itself.
 */
class DomainExceptionEdgeTest {

    private static final ObjectMapper mapper = new ObjectMapper();

    @RegisterExtension
    static final SoniaServiceExtension router = SoniaServiceExtension.of(
            Stack.ROUTER, config -> SoniaServer.builder(Stack.ROUTER, config).addService(new RefusingRouter())
                                               .configure(sb -> sb.service("/refuse/{model}", (ctx, req) -> {
                                                   throw RefusingRouter.refusal(ctx.pathParam("model"));
                                               }))
                                               .build());

    /** A router whose every call fails as its model names. */
    static final class RefusingRouter extends RouterServiceGrpc.RouterServiceImplBase {
        static DomainException refusal(String model) {
            return switch (model) {
                case "missing" -> DomainException.notFound("model", "gpt-9");
                case "exists" -> DomainException.alreadyExists("deployment", "local");
                case "conflict" -> DomainException.conflict("the deployment is draining");
                case "invalid" -> DomainException.invalidArgument("model", "no such alias");
                case "denied" -> DomainException.permissionDenied("not yours");
                case "limited" -> DomainException.of(ErrorCode.ERROR_CODE_RATE_LIMITED, "budget spent",
                                                     Map.of("limit", "tokens")).with("max", "3");
                default -> throw new IllegalArgumentException("unscripted model " + model);
            };
        }

        @Override
        public void chat(ChatRequest request, StreamObserver<ChatResponse> responses) {
            if (request.getModel().startsWith("observer-")) {
                responses.onError(refusal(request.getModel().substring("observer-".length())));
                return;
            }
            throw refusal(request.getModel());
        }

        @Override
        public void streamChat(StreamChatRequest request, StreamObserver<StreamChatResponse> responses) {
            responses.onNext(StreamChatResponse.getDefaultInstance());
            throw refusal(request.getModel());
        }
    }

    @ParameterizedTest
    @CsvSource({
            "missing,  NOT_FOUND,           NOT_FOUND,         404",
            "exists,   ALREADY_EXISTS,      CONFLICT,          409",
            "conflict, FAILED_PRECONDITION, CONFLICT,          409",
            "invalid,  INVALID_ARGUMENT,    INVALID_ARGUMENT,  400",
            "denied,   PERMISSION_DENIED,   PERMISSION_DENIED, 403",
            "limited,  RESOURCE_EXHAUSTED,  RATE_LIMITED,      429",
    })
    void aRefusalIsTheSameErrorOverGrpcAndRest(String model, Status.Code grpc, String reason, int http)
            throws Exception {
        for (String thrownOrPassed : new String[] {model, "observer-" + model}) {
            final var stub = router.stub(RouterServiceGrpc::newBlockingStub, router.adminToken());
            assertThatThrownBy(() -> stub.chat(ChatRequest.newBuilder().setModel(thrownOrPassed).build()))
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                        assertThat(e.getStatus().getCode()).isEqualTo(grpc);
                        assertThat(errorInfo(e).getReason()).isEqualTo(reason);
                        assertThat(errorInfo(e).getDomain()).isEqualTo("router.sonia.ai");
                    });
        }

        final AggregatedHttpResponse response = restChat(model);
        assertThat(response.status().code()).isEqualTo(http);
        final JsonNode envelope = mapper.readTree(response.contentUtf8());
        assertThat(envelope.at("/ok").asBoolean()).isFalse();
        assertThat(envelope.at("/error/code").asText()).isEqualTo(reason);
        assertThat(envelope.at("/error/details/domain").asText()).isEqualTo("router.sonia.ai");
    }

    @Test
    void aRefusalFromAPlainHttpRouteIsTheSameEnvelope() throws Exception {
        final AggregatedHttpResponse response = router.rest(router.adminToken()).get("/refuse/exists").aggregate().join();
        assertThat(response.status().code()).isEqualTo(409);
        final JsonNode envelope = mapper.readTree(response.contentUtf8());
        assertThat(envelope.at("/error/code").asText()).isEqualTo("CONFLICT");
        assertThat(envelope.at("/error/message").asText()).isEqualTo("deployment already exists: local");
        assertThat(envelope.at("/error/details/domain").asText()).isEqualTo("router.sonia.ai");
        assertThat(envelope.at("/error/details/metadata/name").asText()).isEqualTo("local");
        final JsonNode invalid = mapper.readTree(
                router.rest(router.adminToken()).get("/refuse/invalid").aggregate().join().contentUtf8());
        assertThat(invalid.at("/error/details/field_violations/0/field").asText()).isEqualTo("model");
    }

    @Test
    void metadataAndFieldViolationsTravel() throws Exception {
        final var stub = router.stub(RouterServiceGrpc::newBlockingStub, router.adminToken());
        assertThatThrownBy(() -> stub.chat(ChatRequest.newBuilder().setModel("limited").build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(errorInfo(e).getMetadataMap()).containsEntry("limit", "tokens").containsEntry("max", "3");
                    assertThat(e.getStatus().getDescription()).isEqualTo("budget spent");
                });
        assertThatThrownBy(() -> stub.chat(ChatRequest.newBuilder().setModel("invalid").build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    final BadRequest bad = detail(e, BadRequest.class);
                    assertThat(bad.getFieldViolations(0).getField()).isEqualTo("model");
                    assertThat(bad.getFieldViolations(0).getDescription()).isEqualTo("no such alias");
                    assertThat(errorInfo(e).getMetadataMap()).containsEntry("field", "model");
                });
        final JsonNode envelope = mapper.readTree(restChat("invalid").contentUtf8());
        assertThat(envelope.at("/error/details/field_violations/0/field").asText()).isEqualTo("model");
    }

    @Test
    void aStreamEndsWithTheRefusalAfterWhatItSent() {
        final Iterator<StreamChatResponse> stream =
                router.stub(RouterServiceGrpc::newBlockingStub, router.adminToken()).streamChat(StreamChatRequest.newBuilder().setModel("exists").build());
        assertThat(stream.next()).isEqualTo(StreamChatResponse.getDefaultInstance());
        assertThatThrownBy(stream::hasNext)
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.ALREADY_EXISTS);
                    assertThat(errorInfo(e).getReason()).isEqualTo("CONFLICT");
                    assertThat(errorInfo(e).getMetadataMap()).containsEntry("name", "local");
                });
    }

    @Test
    void illegalArgumentStaysInvalidArgument() {
        final var stub = router.stub(RouterServiceGrpc::newBlockingStub, router.adminToken());
        assertThatThrownBy(() -> stub.chat(ChatRequest.newBuilder().setModel("unscripted").build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
    }

    @Test
    void domainExceptionsCarryNoTransportTypes() {
        assertThatThrownBy(() -> DomainException.of(ErrorCode.ERROR_CODE_UNSPECIFIED, "x", Map.of()))
                .isInstanceOf(IllegalArgumentException.class);
        final DomainException e = DomainException.alreadyExists("user", "ann").with("tenant", "t1");
        assertThat(e.code()).isEqualTo(ErrorCode.ERROR_CODE_CONFLICT);
        assertThat(e.isAlreadyExists()).isTrue();
        assertThat(e.getMessage()).isEqualTo("user already exists: ann");
        assertThat(e.metadata()).containsExactly(Map.entry("name", "ann"), Map.entry("tenant", "t1"));
    }

    private static AggregatedHttpResponse restChat(String model) {
        return router.rest(router.adminToken()).execute(RequestHeaders.builder(HttpMethod.POST, "/v1/chat:complete")
                                          .contentType(MediaType.JSON_UTF_8).build(),
                            "{\"model\":\"" + model + "\"}").aggregate().join();
    }
}
