package ai.sonia.runtime.client;

import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import ai.sonia.common.v1.ErrorCode;
import ai.sonia.runtime.Errors;
import io.github.resilience4j.bulkhead.Bulkhead;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * Puts every call to one downstream behind its circuit breaker and bulkhead. It sits above the
 * channel's retry layer, so it sees each call's final outcome once: retries are never multiplied.
 * Only faults of the downstream count as failures; a client error (INVALID_ARGUMENT, NOT_FOUND, ...)
 * is a healthy answer.
 */
final class GuardingInterceptor implements ClientInterceptor {

    private static final Set<Status.Code> FAILURES =
            EnumSet.of(Status.Code.UNAVAILABLE, Status.Code.DEADLINE_EXCEEDED, Status.Code.INTERNAL, Status.Code.UNKNOWN);

    private final String service;
    private final CircuitBreaker breaker;
    private final Bulkhead bulkhead;

    GuardingInterceptor(String service, CircuitBreaker breaker, Bulkhead bulkhead) {
        this.service = service;
        this.breaker = breaker;
        this.bulkhead = bulkhead;
    }

    @Override
    public <ReqT, RespT> ClientCall<ReqT, RespT> interceptCall(MethodDescriptor<ReqT, RespT> method,
                                                               CallOptions callOptions, Channel next) {
        if (!breaker.tryAcquirePermission()) {
            return new FailedCall<>(Errors.of("sonia.ai", ErrorCode.ERROR_CODE_UNAVAILABLE,
                                              service + " is failing: circuit open, failing fast",
                                              Map.of("service", service, "circuit", breaker.getState().name())));
        }
        if (!bulkhead.tryAcquirePermission()) {
            breaker.releasePermission();
            return new FailedCall<>(Errors.of("sonia.ai", ErrorCode.ERROR_CODE_UNAVAILABLE,
                                              service + " has too many calls in flight",
                                              Map.of("service", service, "max_concurrent_calls",
                                                     String.valueOf(bulkhead.getBulkheadConfig().getMaxConcurrentCalls()))));
        }
        final long start = System.nanoTime();
        return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, callOptions)) {
            @Override
            public void start(Listener<RespT> listener, Metadata headers) {
                super.start(new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(listener) {
                    @Override
                    public void onClose(Status status, Metadata trailers) {
                        bulkhead.onComplete();
                        final Status seen = cutOff(status) ? Status.UNAVAILABLE.withDescription(
                                service + " went away in the middle of the call").withCause(status.asException())
                                                           : status;
                        record(seen, System.nanoTime() - start);
                        super.onClose(seen, trailers);
                    }
                }, headers);
            }
        };
    }

    /**
     * A response that ended without its gRPC status: the downstream died mid-call (a server stopping, a
     * connection reset). grpc-java calls it UNKNOWN; for the caller it is UNAVAILABLE.
     */
    private static boolean cutOff(Status status) {
        return status.getCode() == Status.Code.UNKNOWN && status.getDescription() != null
               && status.getDescription().toLowerCase(java.util.Locale.ROOT).contains("missing grpc status");
    }

    private void record(Status status, long nanos) {
        if (FAILURES.contains(status.getCode())) {
            breaker.onError(nanos, TimeUnit.NANOSECONDS, status.asRuntimeException());
        } else if (status.getCode() == Status.Code.CANCELLED) {
            breaker.releasePermission(); // the caller gave up: says nothing about the downstream
        } else {
            breaker.onSuccess(nanos, TimeUnit.NANOSECONDS);
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
