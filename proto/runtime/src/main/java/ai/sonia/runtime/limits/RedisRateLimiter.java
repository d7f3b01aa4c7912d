package ai.sonia.runtime.limits;

import java.util.List;

import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.exceptions.JedisConnectionException;

/**
 * The {@link RateLimiter} every replica of a service shares ({@code shared.engine: redis}): each key's bucket
 * is one Redis hash (tokens, last refill), refilled greedily like {@link Bucket4jRateLimiter}'s and changed by
 * one Lua script, so concurrent replicas never both take the last token. Time is the Redis server's
 * ({@code TIME}, microseconds), one clock for every replica. A bucket's key expires once it would be full
 * again, so idle keys cost nothing.
 */
public final class RedisRateLimiter implements RateLimiter {

    /**
     * ARGV: capacity, period in microseconds, tokens to charge, mode (take | charge | peek). Returns the tokens
     * left (floored), the microseconds until one token is there, and 1 when a token was taken.
     */
    private static final String BUCKET = """
            local capacity = tonumber(ARGV[1])
            local rate = capacity / tonumber(ARGV[2])
            local mode = ARGV[4]
            local t = redis.call('TIME')
            local state = redis.call('HMGET', KEYS[1], 'tokens', 'at_s', 'at_us')
            local tokens = tonumber(state[1])
            if tokens == nil then
              tokens = capacity
            else
              local elapsed = (tonumber(t[1]) - tonumber(state[2])) * 1000000 + tonumber(t[2]) - tonumber(state[3])
              tokens = math.min(capacity, tokens + math.max(0, elapsed) * rate)
            end
            local taken = 0
            if mode == 'take' and tokens >= 1 then
              tokens = tokens - 1
              taken = 1
            elseif mode == 'charge' then
              tokens = tokens - tonumber(ARGV[3])
            end
            local wait = 0
            if tokens < 1 then
              wait = math.ceil((1 - tokens) / rate)
            end
            if mode ~= 'peek' then
              redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at_s', t[1], 'at_us', t[2])
              redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - tokens) / rate / 1000) + 1000)
            end
            return {math.floor(tokens), wait, taken}
            """;

    private final UnifiedJedis redis;
    private final String prefix;

    /** Buckets under {@code prefix} (say {@code sonia:gateway:rate:}) on the JVM's shared {@code redis} client. */
    public RedisRateLimiter(UnifiedJedis redis, String prefix) {
        this.redis = redis;
        this.prefix = prefix;
    }

    @Override
    public boolean blocking() {
        return true;
    }

    @Override
    public long tryTake(String key, Limit limit) {
        final List<Long> answer = run(key, limit, 0, "take");
        return answer.get(2) == 1 ? 0 : seconds(answer.get(1));
    }

    @Override
    public long charge(String key, Limit limit, long tokens) {
        return run(key, limit, tokens, "charge").get(0);
    }

    @Override
    public long secondsUntilToken(String key, Limit limit) {
        return seconds(run(key, limit, 0, "peek").get(1));
    }

    @Override
    public void reset(String key) {
        redis.del(prefix + key);
    }

    // Once more on a broken connection: after a Redis restart the pool still holds connections to the old server,
    // and the call that finds one drops it; the next call gets a fresh one. A server still down fails again.
    private List<Long> run(String key, Limit limit, long tokens, String mode) {
        try {
            return eval(key, limit, tokens, mode);
        } catch (JedisConnectionException e) {
            return eval(key, limit, tokens, mode);
        }
    }

    @SuppressWarnings("unchecked")
    private List<Long> eval(String key, Limit limit, long tokens, String mode) {
        final long periodMicros = Math.max(1, limit.period().toNanos() / 1_000);
        return (List<Long>) redis.eval(BUCKET, List.of(prefix + key),
                                       List.of(Long.toString(limit.tokens()), Long.toString(periodMicros),
                                               Long.toString(tokens), mode));
    }

    private static long seconds(long micros) {
        return micros <= 0 ? 0 : Math.max(1, (micros + 999_999) / 1_000_000);
    }
}
