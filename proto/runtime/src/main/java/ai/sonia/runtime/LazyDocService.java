package ai.sonia.runtime;

import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServiceConfig;
import com.linecorp.armeria.server.ServiceRequestContext;
import com.linecorp.armeria.server.docs.DocService;

/**
 * Armeria's {@link DocService} under {@code /docs}, made on the first request there instead of when the server
 * starts: a {@code DocService} builds the specification of every service it finds (descriptors to JSON) on its
 * own thread as soon as the server starts, which in the one-JVM stack took ~5 % of the start's CPU from the
 * other services still starting, for a page few ever open. The first request waits for the specification as a
 * request right after the start always did.
 */
final class LazyDocService implements HttpService {

    private volatile ServiceConfig config;
    /** The DocService once made (it finds its server's services through {@link #as}), then once it serves. */
    private volatile DocService made;
    private volatile DocService docs;

    @Override
    public void serviceAdded(ServiceConfig cfg) {
        config = cfg;
    }

    @Override
    public HttpResponse serve(ServiceRequestContext ctx, HttpRequest req) throws Exception {
        return docs().serve(ctx, req);
    }

    /** This service, or the DocService inside it once made: a DocService finds its virtual hosts by {@code as}. */
    @Override
    public <T> T as(Class<T> type) {
        final T self = HttpService.super.as(type);
        final DocService inside = made;
        return self != null || inside == null ? self : inside.as(type);
    }

    private DocService docs() throws Exception {
        DocService serving = docs;
        if (serving == null) {
            synchronized (this) {
                serving = docs;
                if (serving == null) {
                    serving = DocService.builder().build();
                    made = serving;
                    serving.serviceAdded(config); // finds the server's services, starts building the specification
                    docs = serving;
                }
            }
        }
        return serving;
    }
}
