package ai.sonia.gateway.accounts;

import java.time.Clock;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;

/**
 * The login sessions and API keys revoked while their access tokens may still be unexpired, kept in memory
 * so that the check on every request costs a map lookup, and loaded from the store at start, so a restart
 * does not bring a logged-out token back. Entries older than the access token lifetime are dropped: no token
 * of theirs is left to refuse.
 */
final class Revocations implements Predicate<String> {

    /** The {@code sid} of access tokens exchanged for an API key: {@code key:<key id>:<exchange id>}. */
    static final String KEY_SESSION_PREFIX = ai.sonia.runtime.auth.RevocationList.KEY_PREFIX;

    private final Map<String, Long> sessions = new ConcurrentHashMap<>();
    private final Map<String, Long> keys = new ConcurrentHashMap<>();
    private final long ttlMs;
    private final Clock clock;
    private final ai.sonia.runtime.auth.RevocationList shared;

    /** {@code shared} tells the other services of the machine, which verify access tokens on their own. */
    Revocations(AccountStore store, AuthSettings settings, Clock clock, ai.sonia.runtime.auth.RevocationList shared) {
        this.ttlMs = settings.accessTtl().toMillis();
        this.clock = clock;
        this.shared = shared;
        final long since = clock.millis() - ttlMs;
        store.sessionsRevokedSince(since).forEach(id -> sessions.put(id, clock.millis()));
        store.keysRevokedSince(since).forEach(id -> keys.put(id, clock.millis()));
    }

    static String keySession(String keyId) {
        return KEY_SESSION_PREFIX + keyId + ':' + Tokens.id("");
    }

    void revokeSession(String sessionId) {
        sessions.put(sessionId, clock.millis());
        shared.revoke(sessionId, clock.millis() + ttlMs);
        purge();
    }

    void revokeKey(String keyId) {
        keys.put(keyId, clock.millis());
        shared.revoke(KEY_SESSION_PREFIX + keyId, clock.millis() + ttlMs);
        purge();
    }

    /** Whether the access tokens of login session {@code sid} are revoked. */
    @Override
    public boolean test(String sid) {
        if (sid.startsWith(KEY_SESSION_PREFIX)) {
            final int end = sid.indexOf(':', KEY_SESSION_PREFIX.length());
            return keys.containsKey(end < 0 ? sid.substring(KEY_SESSION_PREFIX.length())
                                            : sid.substring(KEY_SESSION_PREFIX.length(), end));
        }
        return sessions.containsKey(sid);
    }

    private void purge() {
        if (sessions.size() + keys.size() > 10_000) {
            final long before = clock.millis() - ttlMs;
            sessions.values().removeIf(at -> at < before);
            keys.values().removeIf(at -> at < before);
        }
    }
}
