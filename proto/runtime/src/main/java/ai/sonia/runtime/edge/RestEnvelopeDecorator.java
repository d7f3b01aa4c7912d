package ai.sonia.runtime.edge;

import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.server.DecoratingHttpServiceFunction;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServiceRequestContext;

/**
 * Wraps every successful REST (transcoded) response in the standard envelope. gRPC and gRPC-Web calls
 * pass untouched; REST errors are rendered as envelopes by {@link TranscodingErrorHandler}.
 */
public final class RestEnvelopeDecorator implements DecoratingHttpServiceFunction {

    private final String service;

    public RestEnvelopeDecorator(String service) {
        this.service = service;
    }

    @Override
    public HttpResponse serve(HttpService delegate, ServiceRequestContext ctx, HttpRequest req) throws Exception {
        if (EdgeReplies.isGrpc(req.headers())) {
            return delegate.serve(ctx, req);
        }
        final HttpResponse response = delegate.serve(ctx, asJson(req));
        return HttpResponse.of(response.aggregate().thenApply(aggregated -> {
            final MediaType type = aggregated.contentType();
            if (aggregated.status() != HttpStatus.OK || type == null || !type.isJson()) {
                return aggregated.toHttpResponse();
            }
            return Envelopes.success(ctx, service, aggregated.content().array()).toHttpResponse();
        }));
    }

    /**
     * The REST surface speaks only JSON: a body sent without a content type, or as a form (what
     * {@code curl -d} does), is read as the JSON it is.
     */
    private static HttpRequest asJson(HttpRequest req) {
        final MediaType type = req.contentType();
        if (type != null && !type.is(MediaType.FORM_DATA) && !type.is(MediaType.PLAIN_TEXT)) {
            return req;
        }
        return req.withHeaders(req.headers().toBuilder().contentType(MediaType.JSON_UTF_8).build());
    }
}
