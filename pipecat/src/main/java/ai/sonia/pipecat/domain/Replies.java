package ai.sonia.pipecat.domain;

import java.util.concurrent.CompletionException;

import ai.sonia.pipecat.v1.EventType;
import ai.sonia.pipecat.v1.SessionEvent;

/** Turns the assistant's answer (or its failure) into session events and history. */
public final class Replies {

    /** A text reply: an assistant MESSAGE, its history entry, then a TURN with the chat latency. */
    public static void text(LiveSession session, String reply, String correlationId, double chatMillis) {
        final SessionEvent message = session.append(
                SessionEvent.newBuilder().setType(EventType.EVENT_TYPE_MESSAGE).setRole("assistant")
                            .setText(reply).setCorrelationId(correlationId));
        session.remember("assistant", reply, message.getMessageId(), false);
        session.append(SessionEvent.newBuilder().setType(EventType.EVENT_TYPE_TURN).setRole("system")
                                   .setCorrelationId(correlationId).putMetrics("first_token_ms", chatMillis));
    }

    /** The assistant could not answer: an ERROR event with the envelope code; the session goes on. */
    public static void failed(LiveSession session, Throwable error, String correlationId) {
        final Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause()
                                                                                                 : error;
        final boolean known = cause instanceof ChatFailure;
        final String code = known ? ((ChatFailure) cause).errorCode() : "INTERNAL_ERROR";
        // Only the assistant's own failures are described; anything else could name library classes.
        session.append(SessionEvent.newBuilder().setType(EventType.EVENT_TYPE_ERROR).setRole("system")
                                   .setErrorCode(code).setText("the assistant could not answer: "
                                                               + (known ? cause.getMessage() : "internal error"))
                                   .setCorrelationId(correlationId));
    }

    private Replies() {}
}
