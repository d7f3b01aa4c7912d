package ai.sonia.memory.domain;

import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import ai.sonia.memory.MemoryConfig;
import ai.sonia.runtime.Threads;

/**
 * The ledger's background work on one thread: marks memories past their TTL as expired, forgets request
 * ids older than {@link #REQUEST_IDS_KEPT}, writes the gathered access times and counts (which reset
 * decay) in batches, and keeps the search index in step with other replicas' writes.
 */
public final class Housekeeping implements AutoCloseable {

    private static final Logger logger = LoggerFactory.getLogger(Housekeeping.class);
    private static final Actor SWEEPER = new Actor("system:ttl-sweeper", "");
    /** How long a store's request id is honoured (AIP-155: at least a day). */
    static final Duration REQUEST_IDS_KEPT = Duration.ofHours(25);
    /**
     * How often the index reads what other replicas of a shared ledger changed: a memory stored through one
     * is searchable through the others within about this (one indexed query; nothing on a SQLite ledger).
     */
    static final Duration FOLLOW_INTERVAL = Duration.ofMillis(250);

    private final MemoryStore store;
    private final AccessTracker accesses;
    private final Clock clock;
    private final ScheduledExecutorService executor;

    /**
     * Starts the schedule; {@code first} (the index load) runs on the same thread before anything else, and
     * {@code follow} (the index following other replicas' changes) every {@link #FOLLOW_INTERVAL} after it.
     */
    public Housekeeping(MemoryConfig config, MemoryStore store, AccessTracker accesses, Clock clock,
                        Runnable first, Runnable follow) {
        this.store = store;
        this.accesses = accesses;
        this.clock = clock;
        executor = Executors.newSingleThreadScheduledExecutor(Threads.factory("memory-housekeeping"));
        executor.execute(first);
        executor.scheduleWithFixedDelay(follow, FOLLOW_INTERVAL.toMillis(), FOLLOW_INTERVAL.toMillis(),
                                        TimeUnit.MILLISECONDS);
        executor.scheduleWithFixedDelay(this::sweep, config.sweepInterval().toMillis(),
                                        config.sweepInterval().toMillis(), TimeUnit.MILLISECONDS);
        executor.scheduleWithFixedDelay(this::flushAccesses, config.accessFlushInterval().toMillis(),
                                        config.accessFlushInterval().toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Marks memories past their TTL as expired, with audit records. */
    public int sweep() {
        try {
            final long nowMs = clock.millis();
            store.forgetRequestsBefore(nowMs - REQUEST_IDS_KEPT.toMillis());
            return store.expireDue(SWEEPER, nowMs, 1_000).size();
        } catch (RuntimeException e) {
            logger.warn("TTL sweep failed", e);
            return 0;
        }
    }

    private void flushAccesses() {
        final Map<Long, long[]> drained = accesses.drain();
        if (drained.isEmpty()) {
            return;
        }
        try {
            store.touch(drained);
        } catch (RuntimeException e) {
            logger.warn("Writing {} access times failed", drained.size(), e);
        }
    }

    /** Stops the schedule, then writes the accesses gathered since the last flush. */
    @Override
    public void close() {
        executor.shutdown();
        try {
            executor.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        flushAccesses();
    }
}
