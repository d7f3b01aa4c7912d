package ai.sonia.runtime.client;

import ai.sonia.runtime.ServiceSpec;
import ai.sonia.runtime.StackConfig;
import io.github.resilience4j.bulkhead.Bulkhead;
import io.github.resilience4j.bulkhead.BulkheadConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;

/**
 * One downstream service as a caller sees it: a channel from {@link SoniaChannels} (contract deadlines,
 * retries only where idempotent) behind a circuit breaker, a bulkhead and a bulkhead per tenant
 * ({@link DownstreamPolicy}), with a {@link RecoveryWatch} that reconnects and half-opens the circuit as
 * soon as the downstream is back.
 * Generated stubs are built on {@link #channel()}.
 */
public final class Downstream implements AutoCloseable {

    private final ServiceSpec spec;
    private final String target;
    private final ManagedChannel managed;
    private final Channel guarded;
    private final CircuitBreaker breaker;
    private final RecoveryWatch recovery;

    /** How often a failing downstream is checked for its return. */
    static final java.time.Duration RECOVERY_INTERVAL = SoniaChannels.RECONNECT_INTERVAL;

    private Downstream(StackConfig config, ServiceSpec spec, String target, DownstreamPolicy policy,
                       io.grpc.ClientInterceptor credentials) {
        this.spec = spec;
        this.target = target;
        managed = SoniaChannels.forTarget(config, target, spec, credentials);
        breaker = CircuitBreaker.of(spec.name(), CircuitBreakerConfig.custom()
                .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
                .slidingWindowSize(policy.failuresToOpen())
                .minimumNumberOfCalls(policy.failuresToOpen())
                .failureRateThreshold(100) // every call of the window failed: N consecutive failures
                .waitDurationInOpenState(policy.openDuration())
                .automaticTransitionFromOpenToHalfOpenEnabled(true)
                .permittedNumberOfCallsInHalfOpenState(1)
                .recordExceptions(Throwable.class)
                .build());
        final Bulkhead bulkhead = Bulkhead.of(spec.name(), BulkheadConfig.custom()
                .maxConcurrentCalls(policy.maxConcurrentCalls())
                .maxWaitDuration(java.time.Duration.ZERO)
                .build());
        guarded = ClientInterceptors.intercept(managed, new GuardingInterceptor(
                spec, breaker, bulkhead, new TenantBulkheads(spec.name(), policy.maxConcurrentCallsPerTenant())));
        recovery = new RecoveryWatch(spec.name(), managed, breaker, RECOVERY_INTERVAL);
    }

    /** The downstream at its configured target. */
    public static Downstream of(StackConfig config, ServiceSpec caller, ServiceSpec spec, DownstreamPolicy policy) {
        return new Downstream(config, spec, config.target(spec), policy, SoniaChannels.credentials(config, caller.name()));
    }

    /** The guarded channel to build stubs on. */
    public Channel channel() {
        return guarded;
    }

    public ServiceSpec spec() {
        return spec;
    }

    public String target() {
        return target;
    }

    /** "CLOSED", "OPEN", "HALF_OPEN" (or another resilience4j state). */
    public String circuitState() {
        return breaker.getState().name();
    }

    @Override
    public void close() {
        recovery.close();
        SoniaChannels.close(managed);
    }
}
