package ai.sonia.runtime.client;

import java.time.Duration;

/**
 * How a caller protects itself from one downstream: the circuit opens after {@code failuresToOpen}
 * consecutive failures of the downstream (UNAVAILABLE, INTERNAL, UNKNOWN, or the contract's own deadline
 * missed, after retries), fails fast while open, and lets one trial call through after
 * {@code openDuration}, or as soon as the downstream's health check passes again after failing; at most
 * {@code maxConcurrentCalls} calls are in flight, so one slow service cannot exhaust the caller, and at
 * most {@code maxConcurrentCallsPerTenant} of them for one tenant, so one tenant cannot starve the others.
 */
public record DownstreamPolicy(int failuresToOpen, Duration openDuration, int maxConcurrentCalls,
                               int maxConcurrentCallsPerTenant) {

    /** 5 consecutive failures, 5 s open, 64 concurrent calls, 16 for one tenant. */
    public static final DownstreamPolicy DEFAULT = new DownstreamPolicy(5, Duration.ofSeconds(5), 64);

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
        if (maxConcurrentCallsPerTenant < 1 || maxConcurrentCallsPerTenant > maxConcurrentCalls) {
            throw new IllegalArgumentException("maxConcurrentCallsPerTenant: " + maxConcurrentCallsPerTenant
                                               + " (expected: 1.." + maxConcurrentCalls + ')');
        }
    }

    /** A policy where one tenant may hold a quarter of the concurrent calls. */
    public DownstreamPolicy(int failuresToOpen, Duration openDuration, int maxConcurrentCalls) {
        this(failuresToOpen, openDuration, maxConcurrentCalls, Math.max(1, maxConcurrentCalls / 4));
    }
}
