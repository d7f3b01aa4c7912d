package ai.sonia.runtime.edge;

import java.util.Map;

import com.linecorp.armeria.common.HttpHeaders;
import com.linecorp.armeria.common.HttpHeadersBuilder;
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

    // Built and validated once: each request adds them in one step instead of one copy per header.
    private final HttpHeaders all;
    private final HttpHeaders forDocs;

    public SecurityHeaders(Map<String, String> headers) {
        final HttpHeadersBuilder all = HttpHeaders.builder();
        final HttpHeadersBuilder forDocs = HttpHeaders.builder();
        headers.forEach((name, value) -> {
            all.add(name, value);
            if (!"content-security-policy".equals(name) && !"x-frame-options".equals(name)) {
                forDocs.add(name, value);
            }
        });
        this.all = all.build();
        this.forDocs = forDocs.build();
    }

    @Override
    public HttpResponse serve(HttpService delegate, ServiceRequestContext ctx, HttpRequest req) throws Exception {
        final HttpHeaders headers = ctx.path().startsWith("/docs") ? forDocs : all;
        if (!headers.isEmpty()) {
            ctx.mutateAdditionalResponseHeaders(builder -> builder.add(headers));
        }
        return delegate.serve(ctx, req);
    }
}
