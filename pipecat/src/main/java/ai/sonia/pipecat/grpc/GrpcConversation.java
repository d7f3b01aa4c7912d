package ai.sonia.pipecat.grpc;

import java.util.Map;

import ai.sonia.common.v1.ErrorCode;
import ai.sonia.pipecat.domain.CloseCode;
import ai.sonia.pipecat.domain.Conversation;
import ai.sonia.pipecat.domain.ConversationOutput;
import ai.sonia.pipecat.domain.Conversations;
import ai.sonia.pipecat.v1.ConverseRequest;
import ai.sonia.pipecat.v1.ConverseResponse;
import ai.sonia.pipecat.v1.SessionEvent;
import ai.sonia.runtime.Errors;
import ai.sonia.runtime.auth.Principal;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;

/**
 * The {@code Converse} stream: client messages go to a {@link Conversation}; its events come back as
 * responses, and its close codes end the stream with the matching status (4001 NOT_FOUND, 4029
 * RESOURCE_EXHAUSTED, 1002/1003 INVALID_ARGUMENT, 1011 INTERNAL, 1000 OK).
 */
final class GrpcConversation implements StreamObserver<ConverseRequest>, ConversationOutput {

    private final ServerCallStreamObserver<ConverseResponse> responses;
    private final Conversation conversation;
    private boolean done;

    GrpcConversation(Conversations conversations, Principal principal,
                     ServerCallStreamObserver<ConverseResponse> responses, String address, String correlationId) {
        this.responses = responses;
        conversation = conversations.newConversation(principal, this, address, correlationId);
        responses.setOnCancelHandler(conversation::closed);
        conversation.open();
    }

    @Override
    public void onNext(ConverseRequest request) {
        conversation.receive(request);
    }

    @Override
    public void onError(Throwable t) {
        conversation.closed();
    }

    @Override
    public void onCompleted() {
        conversation.closed();
        synchronized (this) {
            if (!done) {
                done = true;
                responses.onCompleted();
            }
        }
    }

    @Override
    public synchronized void deliver(SessionEvent event) {
        if (!done && !responses.isCancelled()) {
            responses.onNext(ConverseResponse.newBuilder().setEvent(event).build());
        }
    }

    @Override
    public void close(CloseCode code, String reason) {
        synchronized (this) {
            if (done) {
                return;
            }
            done = true;
            if (!responses.isCancelled()) {
                if (code == CloseCode.NORMAL) {
                    responses.onCompleted();
                } else {
                    responses.onError(Errors.of(PipecatExceptionHandler.DOMAIN, errorCode(code), reason,
                                                Map.of("close_code", String.valueOf(code.code()))));
                }
            }
        }
        conversation.closed();
    }

    private static ErrorCode errorCode(CloseCode code) {
        return switch (code) {
            case UNKNOWN_SESSION -> ErrorCode.ERROR_CODE_NOT_FOUND;
            case LIMIT, TOO_SLOW -> ErrorCode.ERROR_CODE_RATE_LIMITED;
            case MALFORMED, UNSUPPORTED -> ErrorCode.ERROR_CODE_INVALID_ARGUMENT;
            case NORMAL, INTERNAL -> ErrorCode.ERROR_CODE_INTERNAL_ERROR;
        };
    }
}
