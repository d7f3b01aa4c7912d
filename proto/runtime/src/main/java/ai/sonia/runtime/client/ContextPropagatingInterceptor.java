package ai.sonia.runtime.client;

import java.util.concurrent.TimeUnit;

import com.linecorp.armeria.common.annotation.Nullable;
import com.linecorp.armeria.server.ServiceRequestContext;

import ai.sonia.runtime.Correlation;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;

/**
 * Carries the request being served into every downstream call: its correlation id as the
 * {@code x-correlation-id} metadata, and its remaining deadline, so no downstream works past the
 * caller's deadline. The contract's per-method timeout (in the service config) still applies when
 * it is shorter.
 */
final class ContextPropagatingInterceptor implements ClientInterceptor {

    static final Metadata.Key<String> CORRELATION_ID =
            Metadata.Key.of(Correlation.HEADER, Metadata.ASCII_STRING_MARSHALLER);

    @Override
    public <ReqT, RespT> ClientCall<ReqT, RespT> interceptCall(MethodDescriptor<ReqT, RespT> method,
                                                               CallOptions callOptions, Channel next) {
        final String correlationId = Correlation.current();
        final CallOptions options = withCallerDeadline(callOptions);
        return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
            @Override
            public void start(Listener<RespT> responseListener, Metadata headers) {
                if (correlationId != null) {
                    headers.put(CORRELATION_ID, correlationId);
                }
                super.start(responseListener, headers);
            }
        };
    }

    private static CallOptions withCallerDeadline(CallOptions callOptions) {
        final io.grpc.Deadline callerDeadline = requestDeadline();
        if (callerDeadline == null) {
            return callOptions;
        }
        final io.grpc.Deadline current = callOptions.getDeadline();
        return current == null || callerDeadline.isBefore(current) ? callOptions.withDeadline(callerDeadline)
                                                                   : callOptions;
    }

    /** What remains of the deadline of the request being served, or null outside a request or without one. */
    @Nullable
    static io.grpc.Deadline requestDeadline() {
        final ServiceRequestContext ctx = ServiceRequestContext.currentOrNull();
        if (ctx == null || ctx.requestTimeoutMillis() <= 0) {
            return null;
        }
        final long elapsedNanos = System.nanoTime() - ctx.log().partial().requestStartTimeNanos();
        final long remainingNanos = Math.max(0, TimeUnit.MILLISECONDS.toNanos(ctx.requestTimeoutMillis()) - elapsedNanos);
        return io.grpc.Deadline.after(remainingNanos, TimeUnit.NANOSECONDS);
    }
}
