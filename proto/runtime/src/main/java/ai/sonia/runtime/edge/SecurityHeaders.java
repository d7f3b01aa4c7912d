package ai.sonia.runtime.edge;

import java.util.Map;

import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.server.DecoratingHttpServiceFunction;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServiceRequestContext;

/**
 * Puts the configured security headers on every response. {@code /docs} keeps its own page rules: it is
 * an application with scripts, so the API's {@code content-security-policy} would blank it.
 */
public final class SecurityHeaders implements DecoratingHttpServiceFunction {

    private final Map<String, String> headers;

    public SecurityHeaders(Map<String, String> headers) {
        this.headers = Map.copyOf(headers);
    }

    @Override
    public HttpResponse serve(HttpService delegate, ServiceRequestContext ctx, HttpRequest req) throws Exception {
        final boolean docs = ctx.path().startsWith("/docs");
        headers.forEach((name, value) -> {
            if (!(docs && ("content-security-policy".equals(name) || "x-frame-options".equals(name)))) {
                ctx.addAdditionalResponseHeader(name, value);
            }
        });
        return delegate.serve(ctx, req);
    }
}
