package ai.sonia.gateway.edge;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Token buckets by key (a principal, a client address): each holds up to {@code capacity} tokens and regains
 * {@code capacity} every {@code period}, so a client may burst to its limit and then runs at the limit's
 * rate. Our own rather than resilience4j's RateLimiter: that one is a fixed-window limiter per named
 * instance, with waiting threads; here we need thousands of keys, no waiting, and the time to the next
 * token for Retry-After. Idle full buckets are dropped, so memory stays bounded by the active clients.
 */
final class TokenBuckets {

    private static final int MAX_KEYS = 100_000;

    private final double capacity;
    private final double tokensPerNano;
    private final LongSupplier nanoClock;
    private final Map<String, Bucket> buckets = new ConcurrentHashMap<>();

    private static final class Bucket {
        double tokens;
        long updatedNanos;

        Bucket(double tokens, long now) {
            this.tokens = tokens;
            updatedNanos = now;
        }
    }

    TokenBuckets(int requests, double perSeconds, LongSupplier nanoClock) {
        if (requests <= 0 || perSeconds <= 0) {
            throw new IllegalArgumentException("rate limit: " + requests + " per " + perSeconds + " s (expected: > 0)");
        }
        capacity = requests;
        tokensPerNano = requests / (perSeconds * 1e9);
        this.nanoClock = nanoClock;
    }

    /** Takes a token for {@code key}: 0 when granted, otherwise the seconds until one is there (at least 1). */
    long take(String key) {
        final long now = nanoClock.getAsLong();
        if (buckets.size() > MAX_KEYS) {
            buckets.values().removeIf(b -> refilled(b, now) >= capacity);
        }
        final Bucket bucket = buckets.computeIfAbsent(key, k -> new Bucket(capacity, now));
        synchronized (bucket) {
            bucket.tokens = refilled(bucket, now);
            bucket.updatedNanos = now;
            if (bucket.tokens >= 1) {
                bucket.tokens -= 1;
                return 0;
            }
            final double missingNanos = (1 - bucket.tokens) / tokensPerNano;
            return Math.max(1, (long) Math.ceil(missingNanos / 1e9));
        }
    }

    private double refilled(Bucket bucket, long now) {
        return Math.min(capacity, bucket.tokens + (now - bucket.updatedNanos) * tokensPerNano);
    }
}
