package ai.sonia.evaos.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import ai.sonia.evaos.domain.TrainingLocks;
import ai.sonia.evaos.domain.TrainingLocks.Lock;

/**
 * What every {@link TrainingLocks} must do, whatever holds the locks: one tenant's lock never shows in
 * another's, a lock past its expiry reads as off at the caller's time, a re-enable replaces the lock, and
 * lifting a lock that is not there changes nothing.
 */
public abstract class TrainingLocksContract {

    private static final Instant NOW = Instant.parse("2027-01-15T10:00:00Z");

    private TrainingLocks locks;

    /** A new, empty store. */
    protected abstract TrainingLocks newStore();

    @BeforeEach
    void open() {
        locks = newStore();
    }

    @AfterEach
    void close() throws Exception {
        locks.close();
    }

    private static Lock lock(String tenant, String reason, Duration ttl) {
        return new Lock(tenant, reason, tenant + "/boss", NOW, NOW.plus(ttl));
    }

    @Test
    void aLockBelongsToItsTenantOnly() {
        locks.enable(lock("acme", "fine-tune", Duration.ofHours(1)));
        assertThat(locks.get("acme", NOW)).contains(lock("acme", "fine-tune", Duration.ofHours(1)));
        assertThat(locks.get("globex", NOW)).isEmpty();
        assertThat(locks.disable("globex", NOW)).isEmpty();
        assertThat(locks.get("acme", NOW)).isPresent();
        assertThat(locks.countLocked(NOW)).isEqualTo(1);
    }

    @Test
    void aLockReadsAsOffFromItsExpiryOn() {
        locks.enable(lock("acme", "fine-tune", Duration.ofMinutes(10)));
        assertThat(locks.get("acme", NOW.plus(Duration.ofMinutes(10)).minusMillis(1))).isPresent();
        assertThat(locks.get("acme", NOW.plus(Duration.ofMinutes(10)))).isEmpty();
        assertThat(locks.countLocked(NOW.plus(Duration.ofMinutes(10)))).isZero();
        assertThat(locks.disable("acme", NOW.plus(Duration.ofHours(1)))).isEmpty();
    }

    @Test
    void reEnablingReplacesTheLock() {
        locks.enable(lock("acme", "first run", Duration.ofMinutes(1)));
        final Lock second = new Lock("acme", "second run", "acme/other", NOW.plusSeconds(30), NOW.plus(Duration.ofHours(2)));
        locks.enable(second);
        assertThat(locks.get("acme", NOW.plus(Duration.ofMinutes(5)))).contains(second);
        assertThat(locks.countLocked(NOW)).isEqualTo(1);
        // An expired lock enabled again holds again.
        locks.enable(lock("globex", "old", Duration.ofMinutes(1)));
        final Instant later = NOW.plus(Duration.ofMinutes(2));
        assertThat(locks.get("globex", later)).isEmpty();
        final Lock again = new Lock("globex", "new", "globex/boss", later, later.plus(Duration.ofMinutes(1)));
        locks.enable(again);
        assertThat(locks.get("globex", later)).contains(again);
    }

    @Test
    void disablingLiftsTheLockAndIsHarmlessWhenOff() {
        assertThat(locks.disable("acme", NOW)).isEmpty();
        locks.enable(lock("acme", "fine-tune", Duration.ofHours(1)));
        assertThat(locks.disable("acme", NOW)).contains(lock("acme", "fine-tune", Duration.ofHours(1)));
        assertThat(locks.get("acme", NOW)).isEmpty();
        assertThat(locks.disable("acme", NOW)).isEmpty();
        assertThat(locks.countLocked(NOW)).isZero();
    }
}
