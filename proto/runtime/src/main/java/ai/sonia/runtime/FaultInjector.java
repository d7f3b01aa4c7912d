package ai.sonia.runtime;

import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;

import com.fasterxml.jackson.databind.JsonNode;

import com.linecorp.armeria.common.annotation.Nullable;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;

/**
 * Fault injection built into every service, for fault runs and benchmarks (no chaos proxy is
 * installable here): fails a share of the calls of a service with a status. Off unless configured, per
 * service: {@code "services": {"memory": {"faults": {"rate": 0.1, "code": "UNAVAILABLE",
 * "method": "SearchMemories"}}}}, or {@code SONIA_<SERVICE>_FAULTS="0.1:UNAVAILABLE"}.
 */
public final class FaultInjector implements ServerInterceptor {

    private final double rate;
    private final Status.Code code;
    @Nullable
    private final String method;

    FaultInjector(double rate, Status.Code code, @Nullable String method) {
        if (rate < 0 || rate > 1) {
            throw new IllegalArgumentException("faults.rate: " + rate + " (expected: 0..1)");
        }
        this.rate = rate;
        this.code = code;
        this.method = method;
    }

    /** The injector configured for a service, or null when none is. */
    @Nullable
    static FaultInjector from(StackConfig config, ServiceSpec spec) {
        final String fromEnv = config.env("SONIA_" + spec.name().toUpperCase(Locale.ROOT) + "_FAULTS");
        if (fromEnv != null) {
            final String[] parts = fromEnv.split(":");
            return new FaultInjector(Double.parseDouble(parts[0]),
                                     Status.Code.valueOf(parts.length > 1 ? parts[1] : "UNAVAILABLE"), null);
        }
        final JsonNode faults = config.service(spec.name()).get("faults");
        if (faults == null) {
            return null;
        }
        return new FaultInjector(faults.path("rate").asDouble(0),
                                 Status.Code.valueOf(faults.path("code").asText("UNAVAILABLE")),
                                 faults.hasNonNull("method") ? faults.get("method").asText() : null);
    }

    @Override
    public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(ServerCall<ReqT, RespT> call, Metadata headers,
                                                                 ServerCallHandler<ReqT, RespT> next) {
        final String name = call.getMethodDescriptor().getBareMethodName();
        if (name == null || (method != null && !method.equals(name)) || name.equals("Check")) {
            return next.startCall(call, headers);
        }
        if (rate > 0 && ThreadLocalRandom.current().nextDouble() < rate) {
            call.close(Status.fromCode(code).withDescription("injected fault"), new Metadata());
            return new ServerCall.Listener<>() {};
        }
        return next.startCall(call, headers);
    }
}
