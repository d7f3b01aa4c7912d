package ai.sonia.pipecat.domain;

import java.util.concurrent.ConcurrentHashMap;

/** Counts live connections per remote address and refuses one beyond the limit. */
public final class ConnectionLimiter {

    private final int maxPerAddress;
    private final ConcurrentHashMap<String, Integer> open = new ConcurrentHashMap<>();

    public ConnectionLimiter(int maxPerAddress) {
        this.maxPerAddress = maxPerAddress;
    }

    /** Takes a slot for {@code address}; false (and nothing taken) when it has none left. */
    public boolean tryAcquire(String address) {
        final boolean[] acquired = new boolean[1];
        open.compute(address, (a, n) -> {
            final int current = n == null ? 0 : n;
            acquired[0] = current < maxPerAddress;
            return acquired[0] ? current + 1 : current;
        });
        return acquired[0];
    }

    /** Gives a slot back. */
    public void release(String address) {
        open.computeIfPresent(address, (a, n) -> n <= 1 ? null : n - 1);
    }
}
