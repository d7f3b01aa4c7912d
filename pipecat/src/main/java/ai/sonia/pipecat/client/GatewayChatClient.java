package ai.sonia.pipecat.client;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

import org.slf4j.MDC;

import ai.sonia.gateway.v1.ChatRequest;
import ai.sonia.gateway.v1.GatewayServiceGrpc;
import ai.sonia.pipecat.domain.ChatClient;
import ai.sonia.pipecat.domain.ChatFailure;
import ai.sonia.runtime.auth.Principal;
import ai.sonia.runtime.auth.ServiceCredentialInterceptor;
import ai.sonia.runtime.edge.ErrorMapping;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;

/**
 * The assistant is the gateway's {@code Chat}, called over a {@link ai.sonia.runtime.client.SoniaChannels}
 * channel, so its 30 s deadline and retry policy come from the contract. Calls run on {@code executor}
 * outside any request context: a conversation outlives the request that opened it, and its deadline
 * must not bound the chat. For the same reason no request principal follows the call by itself: each one
 * names the session's owner as the user its service credential acts for.
 */
public final class GatewayChatClient implements ChatClient {

    private final GatewayServiceGrpc.GatewayServiceBlockingStub stub;
    private final Executor executor;

    public GatewayChatClient(ManagedChannel channel, Executor executor) {
        stub = GatewayServiceGrpc.newBlockingStub(channel);
        this.executor = executor;
    }

    @Override
    public CompletableFuture<String> reply(Principal owner, String sessionId, String text, String correlationId) {
        return CompletableFuture.supplyAsync(() -> {
            try (MDC.MDCCloseable ignored = MDC.putCloseable("correlation_id", correlationId)) {
                return stub.withOption(ServiceCredentialInterceptor.ACTING_FOR, owner)
                           .chat(ChatRequest.newBuilder().setSessionId(sessionId).setText(text).build())
                           .getReply();
            } catch (StatusRuntimeException e) {
                final String code = ErrorMapping.wireName(ErrorMapping.errorCode(e.getStatus().getCode(), null));
                throw new ChatFailure(code, e.getStatus().getCode() + ": " + e.getStatus().getDescription(), e);
            }
        }, executor);
    }
}
