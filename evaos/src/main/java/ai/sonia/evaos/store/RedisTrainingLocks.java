package ai.sonia.evaos.store;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import ai.sonia.evaos.domain.TrainingLocks;
import redis.clients.jedis.UnifiedJedis;

/**
 * Training locks in Redis, shared by every evaos replica ({@code shared.engine: redis}): one hash per locked
 * tenant ({@code <prefix>lock:<tenant>}: reason, enabled_by, since_ms, expire_ms) that Redis deletes at its
 * expiry ({@code PEXPIREAT}, on the server's clock), and a sorted set of tenants by expiry for
 * {@link #countLocked}. Reads compare {@code expire_ms} with the caller's {@code now}, so every implementation
 * honours the same clock; Redis's own expiry only frees the memory. Each write is one script, atomic.
 */
public final class RedisTrainingLocks implements TrainingLocks {

    /** Replaces the tenant's lock, sets its expiry, indexes it, and drops index entries Redis has expired. */
    private static final String ENABLE = """
            redis.call('DEL', KEYS[1])
            redis.call('HSET', KEYS[1], 'reason', ARGV[1], 'enabled_by', ARGV[2], 'since_ms', ARGV[3], 'expire_ms', ARGV[4])
            redis.call('PEXPIREAT', KEYS[1], ARGV[4])
            redis.call('ZADD', KEYS[2], ARGV[4], ARGV[5])
            local t = redis.call('TIME')
            redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', t[1] * 1000 + math.floor(t[2] / 1000))
            return 1
            """;

    /** Removes the tenant's lock and returns what it was. */
    private static final String DISABLE = """
            local held = redis.call('HGETALL', KEYS[1])
            redis.call('DEL', KEYS[1])
            redis.call('ZREM', KEYS[2], ARGV[1])
            return held
            """;

    private final UnifiedJedis redis;
    private final String prefix;
    private final String index;

    /** Locks under {@code prefix} (say {@code sonia:evaos:training:}) on the JVM's shared {@code redis} client. */
    public RedisTrainingLocks(UnifiedJedis redis, String prefix) {
        this.redis = redis;
        this.prefix = prefix;
        this.index = prefix + "expiry";
    }

    private String key(String tenant) {
        return prefix + "lock:" + tenant;
    }

    @Override
    public void enable(Lock lock) {
        redis.eval(ENABLE, List.of(key(lock.tenant()), index),
                   List.of(lock.reason(), lock.enabledBy(), Long.toString(lock.since().toEpochMilli()),
                           Long.toString(lock.expiresAt().toEpochMilli()), lock.tenant()));
    }

    @Override
    public Optional<Lock> disable(String tenant, Instant now) {
        final Object held = redis.eval(DISABLE, List.of(key(tenant), index), List.of(tenant));
        final Map<String, String> fields = new java.util.HashMap<>();
        if (held instanceof List<?> flat) {
            for (int i = 0; i + 1 < flat.size(); i += 2) {
                fields.put(text(flat.get(i)), text(flat.get(i + 1)));
            }
        }
        return lock(tenant, fields, now);
    }

    private static String text(Object reply) {
        return reply instanceof byte[] bytes ? new String(bytes, java.nio.charset.StandardCharsets.UTF_8)
                                             : String.valueOf(reply);
    }

    @Override
    public Optional<Lock> get(String tenant, Instant now) {
        return lock(tenant, redis.hgetAll(key(tenant)), now);
    }

    private static Optional<Lock> lock(String tenant, Map<String, String> fields, Instant now) {
        if (fields.isEmpty()) {
            return Optional.empty();
        }
        final Instant expiresAt = Instant.ofEpochMilli(Long.parseLong(fields.get("expire_ms")));
        if (!expiresAt.isAfter(now)) {
            return Optional.empty();
        }
        return Optional.of(new Lock(tenant, fields.get("reason"), fields.get("enabled_by"),
                                    Instant.ofEpochMilli(Long.parseLong(fields.get("since_ms"))), expiresAt));
    }

    @Override
    public int countLocked(Instant now) {
        return Math.toIntExact(redis.zcount(index, "(" + now.toEpochMilli(), "+inf"));
    }

    /** The client is the JVM's ({@code SharedEngine.redis}); nothing of this store's to close. */
    @Override
    public void close() {}
}
