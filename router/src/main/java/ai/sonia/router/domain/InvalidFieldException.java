package ai.sonia.router.domain;

/** A request field that is invalid; the gRPC edge names it in INVALID_ARGUMENT. */
public final class InvalidFieldException extends RuntimeException {

    private final String field;

    public InvalidFieldException(String field, String description) {
        super(description, null, false, false);
        this.field = field;
    }

    public String field() {
        return field;
    }
}
