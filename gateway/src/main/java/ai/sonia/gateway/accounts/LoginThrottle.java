package ai.sonia.gateway.accounts;

import java.time.Clock;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Slows password guessing, per username and per client address: after {@code maxFailures} failed logins
 * within the window, the next attempts are refused (RATE_LIMITED with a retry-after) for a lock that doubles
 * with each further failure, up to a cap. A successful login clears the username's record (not the
 * address's, so one valid account does not unlock guessing others from the same address).
 */
final class LoginThrottle {

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
                if (record.failures.size() >= settings.maxLoginFailures()) {
                    final long lock = Math.min(settings.maxLock().toMillis(),
                                               settings.lock().toMillis() << Math.min(record.locks, 20));
                    record.lockedUntilMs = now + lock;
                    record.locks++;
                }
            }
        }
    }

    /** Forgets a key's failures (a successful login of that username). */
    void succeeded(String key) {
        records.remove(key);
    }

    private static long lastFailure(Record record) {
        synchronized (record) {
            return record.failures.isEmpty() ? 0 : record.failures.peekLast();
        }
    }
}
