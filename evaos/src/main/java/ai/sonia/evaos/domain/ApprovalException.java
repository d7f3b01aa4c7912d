package ai.sonia.evaos.domain;

/** A request about approvals that cannot be honoured; {@code kind} says how to answer it. */
public final class ApprovalException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** What went wrong, for the error mapping. */
    public enum Kind {
        NOT_FOUND, INVALID_ARGUMENT, NOT_PENDING, PERMISSION_DENIED,
        /** A plain user approving their own action above what the tenant's policy allows; field: the id. */
        SELF_APPROVAL
    }

    private final Kind kind;
    private final String field;

    public ApprovalException(Kind kind, String field, String message) {
        super(message, null, false, false);
        this.kind = kind;
        this.field = field;
    }

    public Kind kind() {
        return kind;
    }

    /** The request field at fault (or the approval id for NOT_FOUND, NOT_PENDING and SELF_APPROVAL). */
    public String field() {
        return field;
    }
}
