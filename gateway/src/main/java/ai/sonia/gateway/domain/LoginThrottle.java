package ai.sonia.gateway.domain;

import java.time.Duration;

import ai.sonia.runtime.limits.RateLimiter;

/**
 * Slows password guessing per (username, client address) and per client address, with an exponential delay:
 * after {@code maxFailures} failed logins within the window under one key, the next attempts are refused
 * (RATE_LIMITED with Retry-After) for a lock that doubles with each further failure, up to a cap. An address
 * may serve many people (a NAT), so its own limit is {@link #ADDRESS_FACTOR} times higher. Nothing is keyed
 * by the username alone, so a guesser never locks the real user out from another address. A successful login
 * clears its (username, address) record (not the address's, so one valid account does not unlock guessing
 * others from the same address).
 *
 * <p>It also bounds what one address may spend or make however right its passwords: logins per minute
 * ({@link #attempt}, each a password check) and open sign-ups per hour ({@link #signUp}, each a tenant).
 *
 * <p>Both parts are buckets of the {@link RateLimiter}: failures drain a bucket of {@code maxFailures} per
 * window (going into debt past it, which counts the further failures), and a lock is a debt of milliseconds
 * in a bucket that regains one token per millisecond, so it lasts exactly the lock's time.
 */
final class LoginThrottle {

    /** How many more failures an address may have than one (username, address). */
    static final int ADDRESS_FACTOR = 4;
    private static final RateLimiter.Limit ONE_PER_MILLISECOND = new RateLimiter.Limit(1, Duration.ofMillis(1));

    private final AuthSettings settings;
    private final RateLimiter limiter;

    LoginThrottle(AuthSettings settings, RateLimiter limiter) {
        this.settings = settings;
        this.limiter = limiter;
    }

    /** Seconds to wait before {@code keys} may try again; 0 when they may try now. */
    long retryAfterSeconds(String... keys) {
        long wait = 0;
        for (String key : keys) {
            wait = Math.max(wait, limiter.secondsUntilToken(lock(key), ONE_PER_MILLISECOND));
        }
        return wait;
    }

    /**
     * Takes one of the address's logins of this minute (successful or not: each costs a password check); 0 when
     * taken, else the seconds until one is there.
     */
    long attempt(String addressKey) {
        return limiter.tryTake("login-attempts:" + addressKey,
                               new RateLimiter.Limit(settings.loginsPerMinute(), Duration.ofMinutes(1)));
    }

    /**
     * Takes one of the address's open sign-ups of this hour (each makes a tenant); 0 when taken, else the seconds
     * until one is there.
     */
    long signUp(String addressKey) {
        return limiter.tryTake("sign-ups:" + addressKey,
                               new RateLimiter.Limit(settings.registrationsPerHour(), Duration.ofHours(1)));
    }

    /** Counts a failure against each key, locking those past the limit. */
    void failed(String... keys) {
        for (String key : keys) {
            final long left = limiter.charge(failures(key), failureLimit(key), 1);
            if (left <= 0 && !settings.lock().isZero()) {
                // The first lock at the limit, doubled by each failure past it.
                final long lockMs = Math.min(settings.maxLock().toMillis(),
                                             settings.lock().toMillis() << Math.min(-left, 20));
                limiter.charge(lock(key), ONE_PER_MILLISECOND, lockMs);
            }
        }
    }

    /** Forgets a key's failures and lock (a successful login of that username from that address). */
    void succeeded(String key) {
        limiter.reset(failures(key));
        limiter.reset(lock(key));
    }

    private RateLimiter.Limit failureLimit(String key) {
        final int limit = key.startsWith("ip:") ? settings.maxLoginFailures() * ADDRESS_FACTOR
                                                : settings.maxLoginFailures();
        return new RateLimiter.Limit(limit, settings.failureWindow());
    }

    private static String failures(String key) {
        return "login-failures:" + key;
    }

    private static String lock(String key) {
        return "login-lock:" + key;
    }
}
