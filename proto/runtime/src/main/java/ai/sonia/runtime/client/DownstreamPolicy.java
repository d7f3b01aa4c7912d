package ai.sonia.runtime.client;

import java.time.Duration;

/**
 * How a caller protects itself from one downstream: the circuit opens after {@code failuresToOpen}
 * consecutive failures (UNAVAILABLE, DEADLINE_EXCEEDED, INTERNAL, UNKNOWN, after retries), fails fast
 * while open, and lets one trial call through after {@code openDuration}; at most
 * {@code maxConcurrentCalls} calls are in flight, so one slow service cannot exhaust the caller.
 */
public record DownstreamPolicy(int failuresToOpen, Duration openDuration, int maxConcurrentCalls) {

    /** 5 consecutive failures, 10 s open, 64 concurrent calls. */
    public static final DownstreamPolicy DEFAULT = new DownstreamPolicy(5, Duration.ofSeconds(10), 64);

    public DownstreamPolicy {
        if (failuresToOpen < 1) {
            throw new IllegalArgumentException("failuresToOpen: " + failuresToOpen + " (expected: >= 1)");
        }
        if (openDuration.isNegative() || openDuration.isZero()) {
            throw new IllegalArgumentException("openDuration: " + openDuration + " (expected: > 0)");
        }
        if (maxConcurrentCalls < 1) {
            throw new IllegalArgumentException("maxConcurrentCalls: " + maxConcurrentCalls + " (expected: >= 1)");
        }
    }
}
