package ai.sonia.gateway.accounts;

import java.time.Clock;

import ai.sonia.runtime.auth.RevocationList;

/**
 * Ends the access tokens of a login session or an API key before they expire, by recording them in the
 * stack's shared {@link RevocationList}: every service's authenticator (this gateway's included) reads it,
 * and it outlives a restart. An entry lasts one access-token lifetime; no token of it is left after that.
 */
final class Revocations {

    /** The {@code sid} of access tokens exchanged for an API key: {@code key:<key id>:<exchange id>}. */
    static final String KEY_SESSION_PREFIX = RevocationList.KEY_PREFIX;

    private final RevocationList shared;
    private final long ttlMs;
    private final Clock clock;

    Revocations(RevocationList shared, AuthSettings settings, Clock clock) {
        this.shared = shared;
        this.ttlMs = settings.accessTtl().toMillis();
        this.clock = clock;
    }

    static String keySession(String keyId) {
        return KEY_SESSION_PREFIX + keyId + ':' + Tokens.id("");
    }

    void revokeSession(String sessionId) {
        shared.revoke(sessionId, clock.millis() + ttlMs);
    }

    void revokeKey(String keyId) {
        shared.revoke(KEY_SESSION_PREFIX + keyId, clock.millis() + ttlMs);
    }
}
