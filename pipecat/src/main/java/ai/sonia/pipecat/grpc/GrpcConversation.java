package ai.sonia.pipecat.grpc;

import java.util.Map;
import java.util.concurrent.Executor;

import ai.sonia.common.v1.ErrorCode;
import ai.sonia.pipecat.domain.CloseCode;
import ai.sonia.pipecat.domain.Conversation;
import ai.sonia.pipecat.domain.ConversationOutput;
import ai.sonia.pipecat.domain.Conversations;
import ai.sonia.pipecat.v1.ConverseRequest;
import ai.sonia.pipecat.v1.ConverseResponse;
import ai.sonia.pipecat.v1.SessionEvent;
import ai.sonia.runtime.auth.CredentialWatch;
import ai.sonia.runtime.auth.Principal;
import ai.sonia.runtime.errors.DomainException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;

/**
 * The {@code Converse} stream: client messages go to a {@link Conversation}; its events come back as
 * responses, and its close codes end the stream with the matching status (4001 and 4004 NOT_FOUND, a closed session FAILED_PRECONDITION, 4029 and 4008
 * RESOURCE_EXHAUSTED, 1002/1003 INVALID_ARGUMENT, 1011 INTERNAL, 1013 UNAVAILABLE, 1000 OK).
 *
 * <p>Responses the client has not yet taken are bounded: past {@code maxUnconsumed} the stream ends with
 * RESOURCE_EXHAUSTED, {@code close_code} 4008 and {@code resume_from} (the last sequence sent) in its
 * ErrorInfo, as the WebSocket closes a slow reader. A credential revoked while the stream is open ends it with
 * UNAUTHENTICATED ({@link CredentialWatch}).
 */
final class GrpcConversation implements StreamObserver<ConverseRequest>, ConversationOutput {

    private final ServerCallStreamObserver<ConverseResponse> responses;
    private final Conversation conversation;
    private final Executor executor;
    private final int maxUnconsumed;
    private boolean done;
    // The replay of the attach is bounded by the replay buffer: the limit counts from after it.
    private boolean attached;
    private int unconsumed;
    private long lastSentSequence;

    GrpcConversation(Conversations conversations, Principal principal,
                     ServerCallStreamObserver<ConverseResponse> responses, String address, String correlationId,
                     Executor executor, int maxUnconsumed) {
        this.responses = responses;
        this.executor = executor;
        this.maxUnconsumed = maxUnconsumed;
        conversation = conversations.newConversation(principal, this, address, correlationId);
        responses.setOnCancelHandler(conversation::closed);
        // Ready again means every response sent so far has been taken by the transport.
        responses.setOnReadyHandler(() -> {
            synchronized (this) {
                unconsumed = 0;
            }
        });
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
    public void deliver(SessionEvent event) {
        final long resumeFrom;
        synchronized (this) {
            if (done || responses.isCancelled()) {
                return;
            }
            if (!attached || unconsumed < maxUnconsumed) {
                responses.onNext(ConverseResponse.newBuilder().setEvent(event).build());
                unconsumed++;
                if (event.getSequence() > 0) {
                    lastSentSequence = event.getSequence();
                }
                return;
            }
            resumeFrom = lastSentSequence;
        }
        close(CloseCode.TOO_SLOW, "too slow, resume from last_sequence=" + resumeFrom,
              Map.of("close_code", "4008", "resume_from", String.valueOf(resumeFrom)));
    }

    @Override
    public synchronized void attached() {
        attached = true;
        unconsumed = 0;
    }

    @Override
    public void close(CloseCode code, String reason) {
        close(code, reason, Map.of("close_code", String.valueOf(code.code())));
    }

    private void close(CloseCode code, String reason, Map<String, String> details) {
        synchronized (this) {
            if (done) {
                return;
            }
            done = true;
            if (!responses.isCancelled()) {
                if (code == CloseCode.NORMAL) {
                    responses.onCompleted();
                } else if (code == CloseCode.REVOKED) {
                    responses.onError(CredentialWatch.revoked());
                } else {
                    responses.onError(DomainException.of(errorCode(code), reason, details));
                }
            }
        }
        // Not on this thread: it may hold the session's monitor (delivering an event), which closing takes too.
        executor.execute(conversation::closed);
    }

    private static ErrorCode errorCode(CloseCode code) {
        return switch (code) {
            case UNKNOWN_SESSION, DELETED -> ErrorCode.ERROR_CODE_NOT_FOUND;
            case SESSION_CLOSED -> ErrorCode.ERROR_CODE_CONFLICT;
            case LIMIT, TOO_SLOW -> ErrorCode.ERROR_CODE_RATE_LIMITED;
            case MALFORMED, UNSUPPORTED -> ErrorCode.ERROR_CODE_INVALID_ARGUMENT;
            case REVOKED -> ErrorCode.ERROR_CODE_UNAUTHENTICATED;
            case UNAVAILABLE -> ErrorCode.ERROR_CODE_UNAVAILABLE;
            case NORMAL, INTERNAL -> ErrorCode.ERROR_CODE_INTERNAL_ERROR;
        };
    }
}
