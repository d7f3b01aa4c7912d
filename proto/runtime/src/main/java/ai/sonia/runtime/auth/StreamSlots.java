package ai.sonia.runtime.auth;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

import com.linecorp.armeria.common.annotation.Nullable;

/**
 * A cap on the long-lived streams (WebSockets, gRPC server streams) that one principal holds at once, so
 * one user cannot pin hundreds of them. Principals are told apart by {@link Principal#audit()} (tenant and
 * user, or service); a principal's count disappears when its last stream ends.
 */
public final class StreamSlots {

    private final int max;
    private final ConcurrentHashMap<String, Integer> held = new ConcurrentHashMap<>();

    public StreamSlots(int max) {
        if (max <= 0) {
            throw new IllegalArgumentException("max: " + max + " (expected: > 0)");
        }
        this.max = max;
    }

    /** The most streams one principal may hold. */
    public int max() {
        return max;
    }

    /**
     * Takes a slot for {@code principal}: returns what gives it back (safe to call more than once), or
     * null when the principal already holds {@link #max()}.
     */
    @Nullable
    public Runnable tryAcquire(Principal principal) {
        final String key = principal.audit();
        final AtomicBoolean taken = new AtomicBoolean();
        held.compute(key, (k, n) -> {
            final int count = n == null ? 0 : n;
            if (count >= max) {
                return n;
            }
            taken.set(true);
            return count + 1;
        });
        if (!taken.get()) {
            return null;
        }
        final AtomicBoolean released = new AtomicBoolean();
        return () -> {
            if (released.compareAndSet(false, true)) {
                held.computeIfPresent(key, (k, n) -> n <= 1 ? null : n - 1);
            }
        };
    }

    /** How many streams {@code principal} holds now. */
    public int held(Principal principal) {
        return held.getOrDefault(principal.audit(), 0);
    }
}
