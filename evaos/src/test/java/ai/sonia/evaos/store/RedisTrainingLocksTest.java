package ai.sonia.evaos.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import ai.sonia.evaos.domain.TrainingLocks;
import ai.sonia.runtime.testing.RedisServerExtension;
import redis.clients.jedis.UnifiedJedis;

/** The Redis training locks against the contract, on a real redis-server emptied before each test. */
class RedisTrainingLocksTest extends TrainingLocksContract {

    @RegisterExtension
    static final RedisServerExtension redis = new RedisServerExtension();

    private static UnifiedJedis client;

    @Override
    protected TrainingLocks newStore() {
        if (client == null) {
            client = redis.client();
        }
        client.flushAll();
        return new RedisTrainingLocks(client, "sonia:evaos:training:");
    }

    @Test
    void redisDropsALockAtItsExpiryOnItsOwnClock() {
        final Instant past = Instant.now().minusSeconds(60);
        final TrainingLocks locks = newStore();
        locks.enable(new TrainingLocks.Lock("acme", "old", "acme/boss", past.minusSeconds(60), past));
        assertThat(client.exists("sonia:evaos:training:lock:acme")).isFalse();
        // The index entry of an expired lock goes at the next enable.
        locks.enable(new TrainingLocks.Lock("globex", "new", "globex/boss", past, Instant.now().plusSeconds(60)));
        assertThat(client.zcard("sonia:evaos:training:expiry")).isEqualTo(1);
    }
}
