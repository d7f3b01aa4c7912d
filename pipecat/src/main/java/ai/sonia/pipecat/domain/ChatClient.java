package ai.sonia.pipecat.domain;

import java.util.concurrent.CompletableFuture;

import ai.sonia.runtime.auth.Principal;

/** Asks the assistant (the gateway's chat) for a reply to what the user said in a session. */
public interface ChatClient {

    /**
     * The reply to {@code text}, asked for {@code owner} (the session's user, whose memories and tenant
     * the assistant uses). Fails with {@link ChatFailure} when the assistant cannot answer.
     */
    CompletableFuture<String> reply(Principal owner, String sessionId, String text, String correlationId);
}
