package ai.sonia.runtime.client;

import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.google.common.util.concurrent.FutureCallback;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.MoreExecutors;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;

/**
 * Brings a downstream back into use as soon as it is back, instead of when the open duration runs out.
 * Its channel already reconnects within about {@link SoniaChannels#RECONNECT_INTERVAL} of the service
 * listening again. Every {@code interval} while the circuit is open, the downstream's
 * {@code grpc.health.v1.Health} is probed; when it serves again after having been unreachable or failing
 * its health check (a restart), the circuit half-opens at once and the next call is its trial, rather than
 * waiting out the open duration. A downstream that stays reachable and healthy but fails its calls waits
 * out the open duration between trials, as before.
 */
final class RecoveryWatch implements AutoCloseable {

    private static final Logger logger = LoggerFactory.getLogger(RecoveryWatch.class);

    private final String service;
    private final ManagedChannel channel;
    private final CircuitBreaker breaker;
    private final long intervalMillis;
    private final ScheduledFuture<?> task;
    private volatile boolean probing;
    /** Whether the downstream was unreachable or unhealthy since the circuit last opened from closed. */
    private volatile boolean sawUnhealthy;

    RecoveryWatch(String service, ManagedChannel channel, CircuitBreaker breaker, Duration interval) {
        this.service = service;
        this.channel = channel;
        this.breaker = breaker;
        intervalMillis = interval.toMillis();
        breaker.getEventPublisher().onStateTransition(event -> {
            if (event.getStateTransition() == CircuitBreaker.StateTransition.CLOSED_TO_OPEN) {
                sawUnhealthy = channel.getState(false) != ConnectivityState.READY;
            }
        });
        task = SoniaChannels.timer.scheduleWithFixedDelay(this::tick, intervalMillis, intervalMillis, TimeUnit.MILLISECONDS);
    }

    private void tick() {
        try {
            if (breaker.getState() == CircuitBreaker.State.OPEN) {
                if (channel.getState(false) != ConnectivityState.READY) {
                    sawUnhealthy = true;
                }
                if (!probing) {
                    probe();
                }
            }
        } catch (RuntimeException e) {
            probing = false;
            logger.debug("Recovery watch of {} failed", service, e);
        }
    }

    private void probe() {
        probing = true;
        final var check = HealthGrpc.newFutureStub(channel)
                                    .withWaitForReady() // a reconnect in progress is waited for, not failed
                                    .withDeadlineAfter(Math.max(intervalMillis * 2, 200), TimeUnit.MILLISECONDS)
                                    .check(HealthCheckRequest.getDefaultInstance());
        Futures.addCallback(check, new FutureCallback<>() {
            @Override
            public void onSuccess(HealthCheckResponse response) {
                probing = false;
                if (response.getStatus() != HealthCheckResponse.ServingStatus.SERVING) {
                    sawUnhealthy = true;
                    return;
                }
                if (sawUnhealthy && breaker.getState() == CircuitBreaker.State.OPEN) {
                    try {
                        sawUnhealthy = false;
                        breaker.transitionToHalfOpenState();
                        logger.info("{} answers its health check again: circuit half-open, next call is the trial",
                                    service);
                    } catch (RuntimeException raced) {
                        // Another transition won (the open duration ran out at the same moment).
                    }
                }
            }

            @Override
            public void onFailure(Throwable cause) {
                probing = false;
                sawUnhealthy = true;
            }
        }, MoreExecutors.directExecutor());
    }

    @Override
    public void close() {
        task.cancel(false);
    }
}
