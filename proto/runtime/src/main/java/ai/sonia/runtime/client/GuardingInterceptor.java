package ai.sonia.runtime.client;

import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import com.linecorp.armeria.common.annotation.Nullable;

import ai.sonia.common.v1.ErrorCode;
import ai.sonia.runtime.Errors;
import ai.sonia.runtime.ServiceSpec;
import ai.sonia.runtime.auth.Principal;
import ai.sonia.runtime.auth.ServiceCredentialInterceptor;
import io.github.resilience4j.bulkhead.Bulkhead;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * Puts every call to one downstream behind its circuit breaker, a bulkhead per tenant and one for the
 * downstream. It sits above the channel's retry layer, so it sees each call's final outcome once: retries
 * are never multiplied.
 *
 * <p>The breaker judges the downstream, not the caller: only UNAVAILABLE, INTERNAL, UNKNOWN, and a
 * DEADLINE_EXCEEDED where the downstream used up the contract's own deadline of the method, count as
 * failures. A caller's shorter deadline that runs out, a cancellation, a DEADLINE_EXCEEDED that the
 * downstream answered before the deadline (a tool's own requested timeout) and every client-error code
 * (INVALID_ARGUMENT, NOT_FOUND, PERMISSION_DENIED, RESOURCE_EXHAUSTED, ...) say nothing about its health.
 *
 * <p>One tenant cannot take the whole downstream: each tenant (the principal the call acts for) holds
 * at most its share of the calls in flight; past it, that tenant alone gets RESOURCE_EXHAUSTED
 * (RATE_LIMITED).
 */
final class GuardingInterceptor implements ClientInterceptor {

    private static final Set<Status.Code> FAILURES =
            EnumSet.of(Status.Code.UNAVAILABLE, Status.Code.INTERNAL, Status.Code.UNKNOWN);
    /**
     * A call that had at least this share of the contract's deadline ran under the contract's deadline: what
     * is missing went to the stack's own earlier hops (the gateway's recall before the router's chat).
     */
    static final double CONTRACT_SHARE = 0.9;
    /** A deadline this close to its end counts as passed (timers and the downstream's answer race). */
    private static final long EXPIRY_SLACK_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    private final ServiceSpec spec;
    private final CircuitBreaker breaker;
    private final Bulkhead bulkhead;
    private final TenantBulkheads tenants;

    GuardingInterceptor(ServiceSpec spec, CircuitBreaker breaker, Bulkhead bulkhead, TenantBulkheads tenants) {
        this.spec = spec;
        this.breaker = breaker;
        this.bulkhead = bulkhead;
        this.tenants = tenants;
    }

    @Override
    public <ReqT, RespT> ClientCall<ReqT, RespT> interceptCall(MethodDescriptor<ReqT, RespT> method,
                                                               CallOptions callOptions, Channel next) {
        final String service = spec.name();
        final long contractNanos = TimeUnit.MILLISECONDS.toNanos(spec.deadlineMillis(method.getBareMethodName()));
        if (!breaker.tryAcquirePermission()) {
            return new FailedCall<>(Errors.of("sonia.ai", ErrorCode.ERROR_CODE_UNAVAILABLE,
                                              service + " is failing: circuit open, failing fast",
                                              Map.of("service", service, "circuit", breaker.getState().name())));
        }
        // A stream that lives as long as its caller wants (contract deadline 0: an approvals watch) is
        // mostly idle: it takes no place in the bulkheads, or a few open browser tabs would use them up.
        final boolean bounded = contractNanos > 0;
        final Bulkhead tenantBulkhead = bounded ? tenants.of(tenantOf(callOptions)) : null;
        if (tenantBulkhead != null && !tenantBulkhead.tryAcquirePermission()) {
            breaker.releasePermission();
            return new FailedCall<>(Errors.of("sonia.ai", ErrorCode.ERROR_CODE_RATE_LIMITED,
                                              "too many calls in flight to " + service + " for this tenant; retry in 1 s",
                                              Map.of("service", service, "max_concurrent_calls_per_tenant",
                                                     String.valueOf(tenants.maxConcurrentCalls()),
                                                     "retry_after_seconds", "1")));
        }
        if (bounded && !bulkhead.tryAcquirePermission()) {
            tenantBulkhead.onComplete();
            breaker.releasePermission();
            return new FailedCall<>(Errors.of("sonia.ai", ErrorCode.ERROR_CODE_UNAVAILABLE,
                                              service + " has too many calls in flight",
                                              Map.of("service", service, "max_concurrent_calls",
                                                     String.valueOf(bulkhead.getBulkheadConfig().getMaxConcurrentCalls()))));
        }
        final long start = System.nanoTime();
        final Deadline callerDeadline = callerDeadline(callOptions);
        // The contract's deadline governs when the caller left the call (nearly) all of it.
        final boolean underContract = bounded
                && (callerDeadline == null
                    || callerDeadline.timeRemaining(TimeUnit.NANOSECONDS) >= (long) (contractNanos * CONTRACT_SHARE));
        return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, callOptions)) {
            @Override
            public void start(Listener<RespT> listener, Metadata headers) {
                super.start(new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(listener) {
                    /** A long-lived stream is judged when it is answered, not when it ends hours later. */
                    private boolean judged;

                    @Override
                    public void onHeaders(Metadata headers) {
                        if (!bounded && !judged) {
                            judged = true;
                            breaker.onSuccess(System.nanoTime() - start, TimeUnit.NANOSECONDS);
                        }
                        super.onHeaders(headers);
                    }

                    @Override
                    public void onClose(Status status, Metadata trailers) {
                        if (bounded) {
                            bulkhead.onComplete();
                            tenantBulkhead.onComplete();
                        }
                        final Status seen = cutOff(status) ? Status.UNAVAILABLE.withDescription(
                                service + " went away in the middle of the call").withCause(status.asException())
                                                           : status;
                        final long elapsed = System.nanoTime() - start;
                        if (!judged) {
                            record(seen, elapsed, underContract, contractNanos, callerDeadline);
                        } else if (FAILURES.contains(seen.getCode())) {
                            breaker.onError(elapsed, TimeUnit.NANOSECONDS, seen.asRuntimeException());
                        }
                        super.onClose(seen, trailers);
                    }
                }, headers);
            }
        };
    }

    /** The tenant a call acts for; "" for a service acting for itself. */
    static String tenantOf(CallOptions callOptions) {
        Principal principal = callOptions.getOption(ServiceCredentialInterceptor.ACTING_FOR);
        if (principal == null) {
            principal = Principal.currentOrNull();
        }
        return principal == null || principal.isService() ? "" : principal.tenant();
    }

    /** The earliest deadline set by whoever asked for this call: the stub, the gRPC context, the request served. */
    @Nullable
    private static Deadline callerDeadline(CallOptions callOptions) {
        Deadline deadline = callOptions.getDeadline();
        for (Deadline other : new Deadline[] {Context.current().getDeadline(),
                                              ContextPropagatingInterceptor.requestDeadline()}) {
            if (other != null && (deadline == null || other.isBefore(deadline))) {
                deadline = other;
            }
        }
        return deadline;
    }

    /**
     * A response that ended without its gRPC status: the downstream died mid-call (a server stopping, a
     * connection reset). grpc-java calls it UNKNOWN; for the caller it is UNAVAILABLE.
     */
    private static boolean cutOff(Status status) {
        return status.getCode() == Status.Code.UNKNOWN && status.getDescription() != null
               && status.getDescription().toLowerCase(java.util.Locale.ROOT).contains("missing grpc status");
    }

    private void record(Status status, long nanos, boolean underContract, long contractNanos,
                        @Nullable Deadline callerDeadline) {
        final Status.Code code = status.getCode();
        if (FAILURES.contains(code)) {
            breaker.onError(nanos, TimeUnit.NANOSECONDS, status.asRuntimeException());
        } else if (code == Status.Code.DEADLINE_EXCEEDED) {
            if (!underContract) {
                breaker.releasePermission(); // the caller's own short deadline: says nothing about the downstream
            } else if (nanos >= contractNanos - EXPIRY_SLACK_NANOS
                       || callerDeadline != null && callerDeadline.timeRemaining(TimeUnit.NANOSECONDS) <= EXPIRY_SLACK_NANOS) {
                // The downstream used up the contract's whole deadline without answering.
                breaker.onError(nanos, TimeUnit.NANOSECONDS, status.asRuntimeException());
            } else {
                // Answered DEADLINE_EXCEEDED well within the deadline: its own answer (a tool's requested timeout).
                breaker.onSuccess(nanos, TimeUnit.NANOSECONDS);
            }
        } else if (code == Status.Code.CANCELLED) {
            breaker.releasePermission(); // the caller gave up: says nothing about the downstream
        } else {
            breaker.onSuccess(nanos, TimeUnit.NANOSECONDS); // OK or a client error: a healthy answer
        }
    }

    /** A call that fails at once with a prepared status (circuit open, bulkhead full). */
    private static final class FailedCall<ReqT, RespT> extends ClientCall<ReqT, RespT> {
        private final StatusRuntimeException error;

        FailedCall(StatusRuntimeException error) {
            this.error = error;
        }

        @Override
        public void start(Listener<RespT> listener, Metadata headers) {
            listener.onClose(error.getStatus(), error.getTrailers() == null ? new Metadata() : error.getTrailers());
        }

        @Override
        public void request(int numMessages) {}

        @Override
        public void cancel(String message, Throwable cause) {}

        @Override
        public void halfClose() {}

        @Override
        public void sendMessage(ReqT message) {}
    }
}
