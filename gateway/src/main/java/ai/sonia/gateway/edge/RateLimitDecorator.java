package ai.sonia.gateway.edge;

import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpHeaders;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.annotation.Nullable;
import com.linecorp.armeria.server.DecoratingHttpServiceFunction;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServiceRequestContext;

import ai.sonia.common.v1.ErrorCode;
import ai.sonia.runtime.Errors;
import ai.sonia.runtime.auth.Principal;
import ai.sonia.runtime.edge.BlockingCheck;
import ai.sonia.runtime.edge.EdgeReplies;
import ai.sonia.runtime.limits.RateLimiter;

/**
 * Limits requests per principal (user, API key) and per client address, with the gateway's {@link RateLimiter}. Installed
 * inside the runtime's authentication (decorators added by a module run after it), so the principal is
 * known; a refusal is 429 with the RATE_LIMITED envelope and {@code Retry-After}, or gRPC RESOURCE_EXHAUSTED.
 * {@code /healthz} is never limited. A request a Sonia service forwards for a user (pipecat's voice turns)
 * counts against that user, not against the service's address, which all such requests share.
 */
public final class RateLimitDecorator implements DecoratingHttpServiceFunction {

    /** An orchestrator's probes are never rate limited. */
    private static final java.util.Set<String> PROBES = java.util.Set.of("/healthz", "/livez", "/readyz", "/health",
                                                                         "/ready");

    private final RateLimiter limiter;
    private final RateLimiter.Limit perPrincipal;
    private final RateLimiter.Limit perAddress;

    public RateLimitDecorator(RateLimits limits, RateLimiter limiter) {
        this.limiter = limiter;
        perPrincipal = limits.perPrincipal();
        perAddress = limits.perAddress();
    }

    @Override
    public HttpResponse serve(HttpService delegate, ServiceRequestContext ctx, HttpRequest req) throws Exception {
        if (PROBES.contains(ctx.path())) {
            return delegate.serve(ctx, req);
        }
        if (limiter.blocking()) {
            // Buckets in Redis (replicas): checked off the event loop.
            return BlockingCheck.thenServe(ctx, req, delegate, () -> check(ctx, req));
        }
        final HttpResponse refusal = check(ctx, req);
        return refusal != null ? refusal : delegate.serve(ctx, req);
    }

    // Null when the request is within its limits, else its refusal.
    @Nullable
    private HttpResponse check(ServiceRequestContext ctx, HttpRequest req) {
        final Principal principal = Principal.currentOrNull();
        if (principal == null || principal.via().isEmpty()) {
            final long wait = limiter.tryTake("requests-ip:" + ctx.clientAddress().getHostAddress(), perAddress);
            if (wait > 0) {
                return refuse(ctx, req, wait, "too many requests from this address");
            }
        }
        if (principal != null && !principal.isService()) {
            final long wait = limiter.tryTake("requests-principal:" + principal.kind() + ':' + principal.tenant() + '/'
                                               + principal.subject(), perPrincipal);
            if (wait > 0) {
                return refuse(ctx, req, wait, "too many requests for this credential");
            }
        }
        return null;
    }

    private static HttpResponse refuse(ServiceRequestContext ctx, HttpRequest req, long wait, String why) {
        return EdgeReplies.refuse(ctx, req, "gateway",
                                  Errors.of("gateway.sonia.ai", ErrorCode.ERROR_CODE_RATE_LIMITED,
                                            why + "; retry in " + wait + " s",
                                            java.util.Map.of("retry_after_seconds", String.valueOf(wait))),
                                  HttpHeaders.of(HttpHeaderNames.RETRY_AFTER, String.valueOf(wait)));
    }
}
