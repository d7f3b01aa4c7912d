package ai.sonia.openclaw.catalog;

/** A tool call's arguments do not match the tool's contract, or escape the sandbox. */
public final class InvalidArgumentsException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final String field;

    public InvalidArgumentsException(String field, String description) {
        super(description, null, false, false);
        this.field = field;
    }

    /** The offending field, e.g. {@code arguments.path}. */
    public String field() {
        return field;
    }
}
