package ai.sonia.evaos.domain;

import java.time.Instant;
import java.util.Optional;

/**
 * Which tenants are in training mode: at most one lock per tenant, each with who set it, why, since when and
 * until when. A lock past its expiry is gone for every reader (whether or not the store has cleaned it up
 * yet), so expiry needs no sweeper. Times are the caller's ({@code now}), so every implementation honours
 * the same clock. Implementations pass {@code TrainingLocksContract} (SQLite on one machine; Redis, for replicas that
 * share locks within a second; PostgreSQL, for replicas sharing their stores there without Redis).
 */
public interface TrainingLocks extends AutoCloseable {

    /** A tenant's lock. */
    record Lock(String tenant, String reason, String enabledBy, Instant since, Instant expiresAt) {}

    /** Locks {@code tenant} until {@code lock.expiresAt()}, replacing any lock it had (a re-enable). */
    void enable(Lock lock);

    /** Lifts the lock of {@code tenant}; returns the lock that held at {@code now}, if any. */
    Optional<Lock> disable(String tenant, Instant now);

    /** The lock of {@code tenant} that holds at {@code now} (expires strictly after it), if any. */
    Optional<Lock> get(String tenant, Instant now);

    /** How many tenants are locked at {@code now}. */
    int countLocked(Instant now);
}
