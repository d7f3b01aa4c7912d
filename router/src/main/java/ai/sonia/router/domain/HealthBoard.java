package ai.sonia.router.domain;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import javax.annotation.Nullable;

/**
 * The health of every deployment, shared by all requests: consecutive failures and a cooldown. A
 * deployment that fails {@code failureThreshold} times in a row, or is unreachable, or answers 429, is
 * skipped until its cooldown ends (the provider's Retry-After when it gave one); the next request after
 * that tries it again, and one success makes it healthy.
 */
public final class HealthBoard {

    private final Clock clock;
    private final int failureThreshold;
    private final Duration cooldown;
    private final Map<String, State> states = new ConcurrentHashMap<>();

    public HealthBoard(Clock clock, int failureThreshold, Duration cooldown) {
        if (failureThreshold < 1) {
            throw new IllegalArgumentException("failureThreshold: " + failureThreshold + " (expected: >= 1)");
        }
        this.clock = clock;
        this.failureThreshold = failureThreshold;
        this.cooldown = cooldown;
    }

    /** Until when the deployment is cooled down, or null when it may be called now. */
    @Nullable
    public Instant cooldownUntil(String deployment) {
        final State state = states.get(deployment);
        if (state == null || state.cooldownUntil == null) {
            return null;
        }
        return state.cooldownUntil.isAfter(clock.instant()) ? state.cooldownUntil : null;
    }

    /** True unless the last call failed. */
    public boolean healthy(String deployment) {
        final State state = states.get(deployment);
        return state == null || state.consecutiveFailures == 0;
    }

    public void succeeded(String deployment) {
        states.remove(deployment);
    }

    public void failed(String deployment, ProviderFailure failure) {
        states.compute(deployment, (name, old) -> {
            final State state = old == null ? new State() : old;
            state.consecutiveFailures++;
            final boolean immediate = failure.kind() == ProviderFailure.Kind.UNREACHABLE
                                      || failure.kind() == ProviderFailure.Kind.RATE_LIMITED
                                      || failure.kind() == ProviderFailure.Kind.MISCONFIGURED;
            if (immediate || state.consecutiveFailures >= failureThreshold) {
                final Duration wait = failure.retryAfter() != null ? failure.retryAfter() : cooldown;
                state.cooldownUntil = clock.instant().plus(wait);
            }
            return state;
        });
    }

    private static final class State {
        int consecutiveFailures;
        @Nullable
        Instant cooldownUntil;
    }
}
