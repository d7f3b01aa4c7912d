package ai.sonia.pipecat.client;

import java.util.concurrent.CompletableFuture;

import org.slf4j.MDC;

import com.google.common.util.concurrent.FutureCallback;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.MoreExecutors;

import ai.sonia.gateway.v1.ChatRequest;
import ai.sonia.gateway.v1.ChatResponse;
import ai.sonia.gateway.v1.GatewayServiceGrpc;
import ai.sonia.pipecat.domain.ChatClient;
import ai.sonia.pipecat.domain.ChatFailure;
import ai.sonia.runtime.auth.Principal;
import ai.sonia.runtime.auth.ServiceCredentialInterceptor;
import ai.sonia.runtime.edge.ErrorMapping;
import io.grpc.ManagedChannel;
import io.grpc.Status;

/**
 * The assistant is the gateway's {@code Chat}, called over a {@link ai.sonia.runtime.client.SoniaChannels}
 * channel, so its 30 s deadline and retry policy come from the contract. Calls are asynchronous: no thread
 * waits for the answer. A conversation outlives the request that opened it, and that request's deadline
 * must not bound the chat; for the same reason no request principal follows the call by itself: each one
 * names the session's owner as the user its service credential acts for.
 */
public final class GatewayChatClient implements ChatClient {

    private final GatewayServiceGrpc.GatewayServiceFutureStub stub;

    public GatewayChatClient(ManagedChannel channel) {
        stub = GatewayServiceGrpc.newFutureStub(channel);
    }

    @Override
    public CompletableFuture<String> reply(Principal owner, String sessionId, String text, String correlationId) {
        final CompletableFuture<String> reply = new CompletableFuture<>();
        final ListenableFuture<ChatResponse> call;
        // The correlation id is read from the MDC when the call starts, on this thread.
        try (MDC.MDCCloseable ignored = MDC.putCloseable("correlation_id", correlationId)) {
            call = stub.withOption(ServiceCredentialInterceptor.ACTING_FOR, owner)
                       .chat(ChatRequest.newBuilder().setSessionId(sessionId).setText(text).build());
        }
        Futures.addCallback(call, new FutureCallback<>() {
            @Override
            public void onSuccess(ChatResponse response) {
                reply.complete(response.getReply());
            }

            @Override
            public void onFailure(Throwable t) {
                final Status status = Status.fromThrowable(t);
                final String code = ErrorMapping.wireName(ErrorMapping.errorCode(status.getCode(), null));
                reply.completeExceptionally(
                        new ChatFailure(code, status.getCode() + ": " + status.getDescription(), t));
            }
        }, MoreExecutors.directExecutor());
        return reply;
    }
}
