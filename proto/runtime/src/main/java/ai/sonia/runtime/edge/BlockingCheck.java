package ai.sonia.runtime.edge;

import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.util.Exceptions;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServiceRequestContext;

/**
 * A decorator's check that waits on something outside the process (a database, Redis): it runs on the blocking
 * executor, never on the event loop, which serves every other connection of the server meanwhile; the request is
 * then served, or refused with what the check answered, from the event loop. A check that throws fails the request
 * through the edge's error handler (a store or shared engine that cannot answer: 503).
 */
public final class BlockingCheck {

    /** What a check answers: null to serve the request, else the response that refuses it. */
    @FunctionalInterface
    public interface Check extends Supplier<HttpResponse> {}

    /** Runs {@code check} off the event loop, then serves {@code req} through {@code delegate} unless it refused. */
    public static HttpResponse thenServe(ServiceRequestContext ctx, HttpRequest req, HttpService delegate, Check check) {
        return HttpResponse.of(CompletableFuture.supplyAsync(check, ctx.blockingTaskExecutor())
                                                .thenApplyAsync(refusal -> {
                                                    if (refusal != null) {
                                                        return refusal;
                                                    }
                                                    try {
                                                        return delegate.serve(ctx, req);
                                                    } catch (Exception e) {
                                                        return Exceptions.throwUnsafely(e);
                                                    }
                                                }, ctx.eventLoop()));
    }

    private BlockingCheck() {}
}
