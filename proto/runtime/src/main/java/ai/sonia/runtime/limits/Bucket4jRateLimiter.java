package ai.sonia.runtime.limits;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import io.github.bucket4j.Bucket;

/**
 * The {@link RateLimiter} of one service process: a Bucket4j bucket (greedy refill, nanosecond clock) per key,
 * in memory. Idle full buckets are dropped once there are many keys, so memory stays bounded by the active
 * clients.
 */
public final class Bucket4jRateLimiter implements RateLimiter {

    private static final int MAX_KEYS = 100_000;

    private record Entry(Bucket bucket, Limit limit) {
        boolean full() {
            return bucket.getAvailableTokens() >= limit.tokens();
        }
    }

    private final Map<String, Entry> buckets = new ConcurrentHashMap<>();

    @Override
    public long tryTake(String key, Limit limit) {
        return seconds(bucket(key, limit).tryConsumeAndReturnRemaining(1).getNanosToWaitForRefill());
    }

    @Override
    public long charge(String key, Limit limit, long tokens) {
        final Bucket bucket = bucket(key, limit);
        bucket.consumeIgnoringRateLimits(tokens);
        return bucket.getAvailableTokens();
    }

    @Override
    public long secondsUntilToken(String key, Limit limit) {
        final Entry entry = buckets.get(key);
        return entry == null ? 0 : seconds(entry.bucket().estimateAbilityToConsume(1).getNanosToWaitForRefill());
    }

    @Override
    public void reset(String key) {
        buckets.remove(key);
    }

    private Bucket bucket(String key, Limit limit) {
        if (buckets.size() > MAX_KEYS) {
            buckets.values().removeIf(Entry::full);
        }
        return buckets.computeIfAbsent(key, k -> new Entry(
                Bucket.builder()
                      .addLimit(l -> l.capacity(limit.tokens()).refillGreedy(limit.tokens(), limit.period()))
                      .withNanosecondPrecision()
                      .build(), limit)).bucket();
    }

    private static long seconds(long nanos) {
        return nanos <= 0 ? 0 : Math.max(1, (nanos + 999_999_999) / 1_000_000_000);
    }
}
