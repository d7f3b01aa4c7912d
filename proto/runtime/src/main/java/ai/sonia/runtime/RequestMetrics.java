package ai.sonia.runtime;

import com.linecorp.armeria.common.RequestContext;
import com.linecorp.armeria.common.logging.RequestLog;
import com.linecorp.armeria.common.logging.RequestOnlyLog;
import com.linecorp.armeria.common.metric.MeterIdPrefix;
import com.linecorp.armeria.common.metric.MeterIdPrefixFunction;
import com.linecorp.armeria.server.ServiceRequestContext;

import io.grpc.Status;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Names request meters ({@code sonia_server_requests_total}, {@code ..._duration_seconds}, ...) by
 * operation — the gRPC method, REST included since it is transcoded, or the route of a plain HTTP
 * endpoint — with the HTTP status and the gRPC code, so errors can be counted by code.
 */
final class RequestMetrics implements MeterIdPrefixFunction {

    private static final String NAME = "sonia.server";

    @Override
    public MeterIdPrefix activeRequestPrefix(MeterRegistry registry, RequestOnlyLog log) {
        return new MeterIdPrefix(NAME, "operation", operation(log.context(), log));
    }

    @Override
    public MeterIdPrefix completeRequestPrefix(MeterRegistry registry, RequestLog log) {
        final String grpcStatus = log.responseTrailers().get("grpc-status",
                                                             log.responseHeaders().get("grpc-status", ""));
        final String grpcCode = grpcStatus.isEmpty() ? "" : Status.fromCodeValue(Integer.parseInt(grpcStatus))
                                                                  .getCode().name();
        return new MeterIdPrefix(NAME, "operation", operation(log.context(), log),
                                 "http_status", String.valueOf(log.responseHeaders().status().code()),
                                 "grpc_code", grpcCode);
    }

    private static String operation(RequestContext ctx, RequestOnlyLog log) {
        if (log.serviceName() != null && log.serviceName().indexOf('.') > 0 && !log.serviceName().contains("$")
            && !log.serviceName().startsWith("com.linecorp") && !log.serviceName().startsWith("ai.sonia")) {
            return log.serviceName() + '/' + log.name(); // a gRPC method
        }
        if (ctx instanceof ServiceRequestContext sctx) {
            return sctx.config().route().patternString();
        }
        return ctx.path();
    }
}
