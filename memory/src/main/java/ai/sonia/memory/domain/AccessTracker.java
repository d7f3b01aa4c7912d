package ai.sonia.memory.domain;

import java.util.HashMap;
import java.util.Map;

/** Accesses (last time, count) of returned memories, gathered in memory and written in batches. */
public final class AccessTracker {

    private Map<Long, long[]> pending = new HashMap<>();

    public synchronized void record(long id, long nowMs) {
        final long[] access = pending.computeIfAbsent(id, k -> new long[2]);
        access[0] = Math.max(access[0], nowMs);
        access[1]++;
    }

    /** What was gathered since the last drain. */
    public synchronized Map<Long, long[]> drain() {
        final Map<Long, long[]> drained = pending;
        pending = new HashMap<>();
        return drained;
    }
}
