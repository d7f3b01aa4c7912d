package ai.sonia.runtime.limits;

import java.time.Duration;

import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.cluster.SharedEngine;

/**
 * Token buckets by key, the one way the stack limits a rate: the gateway's requests per principal and per
 * address and its failed logins, pipecat's client events per session. Each key's bucket holds up to {@code limit.tokens()} and regains them evenly over
 * {@code limit.period()}; a key's first call fixes its limit. Answers are in whole seconds, as Retry-After
 * wants them. {@link #of} picks the implementation the config's {@code shared.engine} names: in-process
 * ({@link Bucket4jRateLimiter}), or buckets in Redis that every replica shares ({@link RedisRateLimiter}).
 */
public interface RateLimiter {

    /** The limiter of {@code service}: its replicas share buckets when {@code shared.engine} is {@code redis}. */
    static RateLimiter of(StackConfig config, String service) {
        return SharedEngine.redis(config)
                           .<RateLimiter>map(redis -> new RedisRateLimiter(redis, "sonia:" + service + ":rate:"))
                           .orElseGet(Bucket4jRateLimiter::new);
    }

    /** {@code tokens} per {@code period}, all available at once when the bucket is full. */
    record Limit(long tokens, Duration period) {
        public Limit {
            if (tokens <= 0 || period.isNegative() || period.isZero()) {
                throw new IllegalArgumentException("rate limit: " + tokens + " per " + period + " (expected: > 0)");
            }
        }
    }

    /** Whether a call waits on another process (Redis): then an event loop must not make it. */
    default boolean blocking() {
        return false;
    }

    /** Takes one token of {@code key}'s bucket: 0 when taken, else the seconds (at least 1) until one is there. */
    long tryTake(String key, Limit limit);

    /**
     * Takes {@code tokens} from {@code key}'s bucket even when they are not there, leaving it in debt; returns
     * the tokens left (negative in debt).
     */
    long charge(String key, Limit limit, long tokens);

    /** The seconds until {@code key}'s bucket holds a token (0 when it does now); takes nothing. */
    long secondsUntilToken(String key, Limit limit);

    /** Forgets {@code key}'s bucket: it starts full again. */
    void reset(String key);
}
