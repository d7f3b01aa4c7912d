package ai.sonia.runtime;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.logging.RequestLog;
import com.linecorp.armeria.common.util.SafeCloseable;
import com.linecorp.armeria.server.DecoratingHttpServiceFunction;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServiceRequestContext;

import ai.sonia.runtime.logging.LogValues;

/**
 * The outermost decorator of every service: takes the correlation id from {@code X-Correlation-ID} or
 * makes one, keeps it (and the service name) on the request context for logs, envelopes and
 * downstream calls, echoes it in the response header, and writes one access-log line per request.
 */
final class CorrelationDecorator implements DecoratingHttpServiceFunction {

    private static final Logger accessLog = LoggerFactory.getLogger("ai.sonia.access");

    private final String service;

    CorrelationDecorator(String service) {
        this.service = service;
    }

    @Override
    public HttpResponse serve(HttpService delegate, ServiceRequestContext ctx, HttpRequest req) throws Exception {
        final String id = Correlation.accept(req.headers().get(Correlation.HEADER));
        ctx.setAttr(Correlation.ID, id);
        ctx.setAttr(Correlation.SERVICE, service);
        ctx.addAdditionalResponseHeader(Correlation.HEADER, id);
        ctx.log().whenComplete().thenAccept(log -> {
            try (SafeCloseable ignored = ctx.push()) {
                writeAccessLog(ctx, log);
            }
        });
        return delegate.serve(ctx, req);
    }

    private static String principal(ServiceRequestContext ctx) {
        final ai.sonia.runtime.auth.Principal principal = ai.sonia.runtime.auth.Principal.currentOrNull();
        return principal == null ? "" : principal.audit();
    }

    private static void writeAccessLog(ServiceRequestContext ctx, RequestLog log) {
        final String path = ctx.path();
        final boolean quiet = "/healthz".equals(path) || "/metrics".equals(path);
        if (quiet ? !accessLog.isDebugEnabled() : !accessLog.isInfoEnabled()) {
            return;
        }
        final String grpcStatus = log.responseTrailers().get("grpc-status",
                                                             log.responseHeaders().get("grpc-status", ""));
        (quiet ? accessLog.atDebug() : accessLog.atInfo())
                .addKeyValue("method", ctx.method().name())
                .addKeyValue("path", path)
                .addKeyValue("status", log.responseHeaders().status().code())
                .addKeyValue("grpc_status", grpcStatus)
                .addKeyValue("principal", principal(ctx))
                .addKeyValue("duration_ms", LogValues.millis(log.totalDurationNanos()))
                .log("{} {} {}", ctx.method(), path, log.responseHeaders().status().code());
    }
}
