package ai.sonia.pipecat.domain;

import java.util.Map;

/** A session operation refused; {@link Kind} says why, and the gRPC adapter maps it to a status. */
public final class SessionException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** Why an operation was refused. */
    public enum Kind {
        /** No such session. */
        NOT_FOUND,
        /** The session's state does not allow it (FAILED_PRECONDITION). */
        INVALID_TRANSITION,
        /** A limit was reached (RESOURCE_EXHAUSTED). */
        LIMIT,
        /** A request field is wrong (INVALID_ARGUMENT); {@link #field()} names it. */
        INVALID_ARGUMENT,
        /** The request names somebody else than its principal (PERMISSION_DENIED). */
        PERMISSION_DENIED
    }

    private final Kind kind;
    private final String field;
    private final Map<String, String> metadata;

    private SessionException(Kind kind, String message, String field, Map<String, String> metadata) {
        super(message);
        this.kind = kind;
        this.field = field;
        this.metadata = Map.copyOf(metadata);
    }

    static SessionException notFound(String sessionId) {
        return new SessionException(Kind.NOT_FOUND, "session not found: " + sessionId, "",
                                    Map.of("session_id", sessionId));
    }

    static SessionException invalidTransition(String sessionId, Object from, String operation) {
        return new SessionException(Kind.INVALID_TRANSITION,
                                    "cannot " + operation + " session " + sessionId + " in state " + from, "",
                                    Map.of("session_id", sessionId, "state", String.valueOf(from),
                                           "operation", operation));
    }

    static SessionException limit(String what, int limit) {
        return new SessionException(Kind.LIMIT, what + " limit reached: " + limit, "",
                                    Map.of("limit", what, "max", String.valueOf(limit)));
    }

    static SessionException invalidArgument(String field, String description) {
        return new SessionException(Kind.INVALID_ARGUMENT, field + ": " + description, field, Map.of());
    }

    static SessionException permissionDenied(String why) {
        return new SessionException(Kind.PERMISSION_DENIED, why, "", Map.of());
    }

    public Kind kind() {
        return kind;
    }

    /** The offending field, for {@link Kind#INVALID_ARGUMENT}. */
    public String field() {
        return field;
    }

    /** Dynamic values for ErrorInfo. */
    public Map<String, String> metadata() {
        return metadata;
    }
}
