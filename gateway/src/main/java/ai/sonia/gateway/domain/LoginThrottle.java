package ai.sonia.gateway.domain;

import java.time.Clock;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Slows password guessing per (username, client address) and per client address, with an exponential delay:
 * after {@code maxFailures} failed logins within the window under one key, the next attempts are refused
 * (RATE_LIMITED with Retry-After) for a lock that doubles with each further failure, up to a cap. An address
 * may serve many people (a NAT), so its own limit is {@link #ADDRESS_FACTOR} times higher. Nothing is keyed
 * by the username alone, so a guesser never locks the real user out from another address. A successful login
 * clears its (username, address) record (not the address's, so one valid account does not unlock guessing
 * others from the same address).
 *
 * <p>Not Bucket4j nor the gateway's request {@code TokenBuckets}: those refill at a steady rate, while OWASP
 * asks for a delay that grows with each further failure and resets on success, which this does.
 */
final class LoginThrottle {

    /** How many more failures an address may have than one (username, address). */
    static final int ADDRESS_FACTOR = 4;
    private static final int MAX_TRACKED = 100_000;

    private final AuthSettings settings;
    private final Clock clock;
    private final Map<String, Record> records = new ConcurrentHashMap<>();

    private static final class Record {
        final Deque<Long> failures = new ArrayDeque<>();
        long lockedUntilMs;
        int locks;
    }

    LoginThrottle(AuthSettings settings, Clock clock) {
        this.settings = settings;
        this.clock = clock;
    }

    /** Seconds to wait before {@code keys} may try again; 0 when they may try now. */
    long retryAfterSeconds(String... keys) {
        final long now = clock.millis();
        long wait = 0;
        for (String key : keys) {
            final Record record = records.get(key);
            if (record != null) {
                synchronized (record) {
                    wait = Math.max(wait, record.lockedUntilMs - now);
                }
            }
        }
        return wait <= 0 ? 0 : (wait + 999) / 1000;
    }

    /** Counts a failure against each key, locking those past the limit. */
    void failed(String... keys) {
        final long now = clock.millis();
        if (records.size() > MAX_TRACKED) {
            records.entrySet().removeIf(e -> e.getValue().lockedUntilMs < now
                                            && lastFailure(e.getValue()) < now - settings.failureWindow().toMillis());
        }
        for (String key : keys) {
            final Record record = records.computeIfAbsent(key, k -> new Record());
            synchronized (record) {
                record.failures.addLast(now);
                while (!record.failures.isEmpty()
                       && record.failures.peekFirst() < now - settings.failureWindow().toMillis()) {
                    record.failures.removeFirst();
                }
                final int limit = key.startsWith("ip:") ? settings.maxLoginFailures() * ADDRESS_FACTOR
                                                        : settings.maxLoginFailures();
                if (record.failures.size() >= limit) {
                    final long lock = Math.min(settings.maxLock().toMillis(),
                                               settings.lock().toMillis() << Math.min(record.locks, 20));
                    record.lockedUntilMs = now + lock;
                    record.locks++;
                }
            }
        }
    }

    /** Forgets a key's failures (a successful login of that username from that address). */
    void succeeded(String key) {
        records.remove(key);
    }

    private static long lastFailure(Record record) {
        synchronized (record) {
            return record.failures.isEmpty() ? 0 : record.failures.peekLast();
        }
    }
}
