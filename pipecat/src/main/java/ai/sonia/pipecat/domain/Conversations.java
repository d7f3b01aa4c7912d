package ai.sonia.pipecat.domain;

import java.util.concurrent.Executor;

import ai.sonia.runtime.auth.Principal;

/** Makes the {@link Conversation} of each new connection, sharing the service's parts. */
public final class Conversations {

    private final Sessions sessions;
    private final ChatClient chat;
    private final ConnectionLimiter limiter;
    private final VoiceSupport voice;
    private final Executor executor;

    public Conversations(Sessions sessions, ChatClient chat, ConnectionLimiter limiter, VoiceSupport voice,
                         Executor executor) {
        this.sessions = sessions;
        this.chat = chat;
        this.limiter = limiter;
        this.voice = voice;
        this.executor = executor;
    }

    /** A conversation of {@code principal} writing to {@code out}, for a client at {@code address}. */
    public Conversation newConversation(Principal principal, ConversationOutput out, String address,
                                        String correlationId) {
        return new Conversation(sessions, chat, limiter, voice, executor, principal, out, address, correlationId);
    }
}
