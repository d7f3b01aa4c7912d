package ai.sonia.runtime.auth;

/**
 * The revocation list could not be read for longer than it may be trusted (the shared engine unreachable or hanging,
 * the file unreadable): whether a token was revoked cannot be told, so it is not accepted. UNAVAILABLE, retriable
 * ({@link ai.sonia.runtime.Errors#dependencyUnavailable}); the list is read again in the background meanwhile.
 */
public final class RevocationListUnavailableException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final boolean shared;

    RevocationListUnavailableException(boolean shared) {
        super("credentials cannot be checked now: the revocation list " + (shared ? "(Redis) " : "")
              + "cannot be read; try again later");
        this.shared = shared;
    }

    /** Whether the list is the shared engine's (Redis) rather than this machine's file. */
    public boolean shared() {
        return shared;
    }
}
