package ai.sonia.pipecat.domain;

import java.util.concurrent.CompletableFuture;

/** Asks the assistant (the gateway's chat) for a reply to what the user said in a session. */
public interface ChatClient {

    /**
     * The reply to {@code text}. Fails with {@link ChatFailure} when the assistant cannot answer.
     */
    CompletableFuture<String> reply(String sessionId, String text, String correlationId);
}
