package ai.sonia.runtime.limits;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import ai.sonia.runtime.testing.RedisServerExtension;
import redis.clients.jedis.UnifiedJedis;

/** The Redis limiter against the contract, and two replicas (two clients, two limiters) sharing one budget. */
class RedisRateLimiterTest extends RateLimiterContract {

    @RegisterExtension
    static final RedisServerExtension redis = new RedisServerExtension();

    private static UnifiedJedis replicaA;
    private static UnifiedJedis replicaB;

    @Override
    protected RateLimiter newLimiter() {
        if (replicaA == null) {
            replicaA = redis.client();
            replicaB = redis.client();
        }
        replicaA.flushAll();
        return new RedisRateLimiter(replicaA, "sonia:test:rate:");
    }

    @Test
    void twoReplicasShareOneBudget() {
        final RateLimiter a = newLimiter();
        final RateLimiter b = new RedisRateLimiter(replicaB, "sonia:test:rate:");
        final RateLimiter.Limit limit = new RateLimiter.Limit(4, Duration.ofHours(1));
        assertThat(a.tryTake("user:acme/alice", limit)).isZero();
        assertThat(b.tryTake("user:acme/alice", limit)).isZero();
        assertThat(a.tryTake("user:acme/alice", limit)).isZero();
        assertThat(b.tryTake("user:acme/alice", limit)).isZero();
        // The budget of 4 is spent across both: each replica now refuses, with the same wait.
        assertThat(a.tryTake("user:acme/alice", limit)).isBetween(1L, 900L);
        assertThat(b.tryTake("user:acme/alice", limit)).isBetween(1L, 900L);
        assertThat(b.secondsUntilToken("user:acme/alice", limit)).isBetween(1L, 900L);
        // A failed-login charge on one replica is debt on the other; a reset on either frees both.
        assertThat(a.charge("login:acme/bob", new RateLimiter.Limit(2, Duration.ofMinutes(1)), 3)).isEqualTo(-1);
        assertThat(b.secondsUntilToken("login:acme/bob", new RateLimiter.Limit(2, Duration.ofMinutes(1)))).isPositive();
        b.reset("login:acme/bob");
        assertThat(a.secondsUntilToken("login:acme/bob", new RateLimiter.Limit(2, Duration.ofMinutes(1)))).isZero();
        assertThat(a.tryTake("user:acme/carol", limit)).isZero();
    }

    @Test
    void aRedisRestartCostsNoCallItsDeadPooledConnection() throws Exception {
        final RateLimiter limiter = newLimiter();
        final RateLimiter.Limit limit = new RateLimiter.Limit(4, Duration.ofHours(1));
        assertThat(limiter.tryTake("user:acme/dora", limit)).isZero(); // a pooled connection to this server
        redis.restart();
        // The first call after the restart finds that connection dead: answered all the same (an empty Redis).
        assertThat(limiter.tryTake("user:acme/dora", limit)).isZero();
        assertThat(limiter.secondsUntilToken("user:acme/dora", limit)).isZero();
    }
}
