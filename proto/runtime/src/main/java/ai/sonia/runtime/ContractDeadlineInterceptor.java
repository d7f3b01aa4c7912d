package ai.sonia.runtime;

import java.time.Duration;

import com.linecorp.armeria.common.util.TimeoutMode;
import com.linecorp.armeria.server.ServiceRequestContext;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;

/**
 * Gives every call the deadline its method declares in the contract when the caller sent none (a REST
 * call, or a gRPC call without {@code grpc-timeout}), and no deadline to long-lived streams. A caller's
 * own shorter deadline stands. Downstream calls then inherit what remains of it.
 */
final class ContractDeadlineInterceptor implements ServerInterceptor {

    private static final Metadata.Key<String> GRPC_TIMEOUT =
            Metadata.Key.of("grpc-timeout", Metadata.ASCII_STRING_MARSHALLER);

    private final ServiceSpec spec;

    ContractDeadlineInterceptor(ServiceSpec spec) {
        this.spec = spec;
    }

    @Override
    public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(ServerCall<ReqT, RespT> call, Metadata headers,
                                                                 ServerCallHandler<ReqT, RespT> next) {
        final ServiceRequestContext ctx = ServiceRequestContext.currentOrNull();
        final String service = call.getMethodDescriptor().getServiceName();
        if (ctx != null && spec.grpcServiceName().equals(service) && !headers.containsKey(GRPC_TIMEOUT)) {
            final long deadline = spec.deadlineMillis(call.getMethodDescriptor().getBareMethodName());
            if (deadline == 0) {
                ctx.clearRequestTimeout();
            } else {
                ctx.setRequestTimeout(TimeoutMode.SET_FROM_START, Duration.ofMillis(deadline));
            }
        }
        return next.startCall(call, headers);
    }
}
