package ai.sonia.runtime.limits;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What every {@link RateLimiter} must do, whatever holds its buckets. */
abstract class RateLimiterContract {

    /** A new limiter whose buckets are all full. */
    protected abstract RateLimiter newLimiter();

    private RateLimiter limiter;

    @BeforeEach
    void open() {
        limiter = newLimiter();
    }

    @Test
    void aKeyBurstsToItsLimitThenWaitsWholeSecondsWhileOtherKeysAreFree() {
        final RateLimiter.Limit limit = new RateLimiter.Limit(3, Duration.ofSeconds(60));
        for (int i = 0; i < 3; i++) {
            assertThat(limiter.tryTake("a", limit)).isZero();
        }
        assertThat(limiter.tryTake("a", limit)).isBetween(1L, 20L);
        assertThat(limiter.secondsUntilToken("a", limit)).isBetween(1L, 20L);
        assertThat(limiter.tryTake("b", limit)).isZero();
        limiter.reset("a");
        assertThat(limiter.tryTake("a", limit)).isZero();
    }

    @Test
    void aChargeGoesIntoDebtAndTheWaitGrowsWithIt() {
        final RateLimiter.Limit perMilli = new RateLimiter.Limit(1, Duration.ofMillis(1));
        assertThat(limiter.secondsUntilToken("lock", perMilli)).isZero();
        assertThat(limiter.charge("lock", perMilli, 30_000)).isLessThan(0);
        assertThat(limiter.secondsUntilToken("lock", perMilli)).isBetween(29L, 30L);
        final RateLimiter.Limit two = new RateLimiter.Limit(2, Duration.ofSeconds(60));
        assertThat(limiter.charge("failures", two, 1)).isEqualTo(1);
        assertThat(limiter.charge("failures", two, 1)).isEqualTo(0);
        assertThat(limiter.charge("failures", two, 1)).isEqualTo(-1);
    }
}
