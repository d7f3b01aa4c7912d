package ai.sonia.pipecat.domain;

/**
 * Why a conversation ends, with its WebSocket close code. The gRPC stream ends with the matching
 * status instead.
 */
public enum CloseCode {
    /** The session was stopped; a normal close. */
    NORMAL(1000),
    /** The credential the connection opened with was revoked (its user or key changed, its session ended). */
    REVOKED(1008),
    /** A frame that cannot be parsed (bad JSON, odd-length audio, missing attach). */
    MALFORMED(1002),
    /** A frame the protocol does not accept here (server-only event types, audio in a text session). */
    UNSUPPORTED(1003),
    /** Something failed inside the server; an ERROR event precedes it. */
    INTERNAL(1011),
    /**
     * A dependency of the session cannot serve it now (its store cannot be written): try again later, reconnecting
     * with {@code last_sequence}, which replays what was stored (gRPC UNAVAILABLE). An ERROR {@code UNAVAILABLE}
     * naming it precedes it.
     */
    UNAVAILABLE(1013),
    /**
     * The client reads more slowly than its events come: its send queue is full. The reason says where to
     * resume ({@code too slow, resume from last_sequence=N}); reconnecting with that replays the rest.
     */
    TOO_SLOW(4008),
    /** The session is unknown or not the caller's (gRPC NOT_FOUND). */
    UNKNOWN_SESSION(4001),
    /**
     * The session exists but is closed: nothing can attach to it (the same WebSocket code as an unknown session;
     * the ERROR before it says CONFLICT, and gRPC ends with FAILED_PRECONDITION).
     */
    SESSION_CLOSED(4001),
    /** The session was deleted while the connection was attached (as HTTP 404: it is gone). */
    DELETED(4004),
    /** A limit was reached: connections per address. */
    LIMIT(4029);

    private final int code;

    CloseCode(int code) {
        this.code = code;
    }

    /** The WebSocket close code. */
    public int code() {
        return code;
    }
}
