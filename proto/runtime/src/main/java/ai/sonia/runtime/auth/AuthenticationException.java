package ai.sonia.runtime.auth;

/** A credential that proves nothing: missing, malformed, forged, expired, revoked or meant for another use. */
public final class AuthenticationException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public AuthenticationException(String message) {
        super(message, null, false, false);
    }
}
