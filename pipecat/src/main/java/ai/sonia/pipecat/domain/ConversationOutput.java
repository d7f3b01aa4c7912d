package ai.sonia.pipecat.domain;

import ai.sonia.pipecat.v1.SessionEvent;

/** The transport side of a conversation: a WebSocket or a gRPC stream. Thread-safe. */
public interface ConversationOutput extends EventSink {

    /** The connection is attached: the replay of the session's kept events has been delivered. */
    default void attached() {}

    /** Ends the conversation with a close code and a short reason. */
    void close(CloseCode code, String reason);

    /** Sends one event. */
    @Override
    void deliver(SessionEvent event);
}
