package ai.sonia.gateway.domain;

import java.time.Clock;

import ai.sonia.common.v1.Role;
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

    /**
     * Ends every token derived from {@code user} (its sessions' and its API keys') issued until now, at every
     * service; later ones act with at most {@code role}, and none when it is null (disabled or deleted).
     */
    void userChanged(AccountStore.UserRow user, Role role) {
        final long now = clock.millis();
        shared.changeUser(user.tenant(), user.id(), role, now, now + ttlMs);
    }
}
