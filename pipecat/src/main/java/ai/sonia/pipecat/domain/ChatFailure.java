package ai.sonia.pipecat.domain;

/** The assistant could not answer; {@link #errorCode()} is the envelope error code (UNAVAILABLE, TIMEOUT ...). */
public final class ChatFailure extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final String errorCode;

    public ChatFailure(String errorCode, String message, Throwable cause) {
        super(message, cause);
        this.errorCode = errorCode;
    }

    public String errorCode() {
        return errorCode;
    }
}
