package ai.sonia.runtime.limits;

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

/**
 * Limits requests per principal (user, API key) and per client address, with the service's {@link RateLimiter},
 * on every service (installed by {@code SoniaServer} inside its authentication, so the principal is known); a refusal
 * is 429 with the RATE_LIMITED envelope and {@code Retry-After}, or gRPC RESOURCE_EXHAUSTED. {@code /healthz} and
 * the other probes are never limited. The limiter is the caller's choice: the front door's holds the cluster's buckets,
 * a service behind it its process's own.
 *
 * <p>Who counts where: a client's own request counts against its credential and its address wherever it comes in.
 * A request a Sonia service makes for itself is never limited (the service's own callers were). A request a Sonia
 * service forwards for a user was counted where the user's request came in, so a service behind the front door
 * does not count it again; the front door (the gateway) does count it against the user, for the forwarded requests
 * whose origin has no request of its own to count (pipecat's voice turns), not against the forwarding service's
 * address, which all such requests share.
 */
public final class RateLimitDecorator implements DecoratingHttpServiceFunction {

    /** An orchestrator's probes are never rate limited. */
    private static final java.util.Set<String> PROBES = java.util.Set.of("/healthz", "/livez", "/readyz", "/health",
                                                                         "/ready");

    private final String service;
    private final boolean frontDoor;
    private final RateLimiter limiter;
    private final RateLimiter.Limit perPrincipal;
    private final RateLimiter.Limit perAddress;

    /** For {@code service}; {@code frontDoor}: it counts the requests other services forward for users. */
    public RateLimitDecorator(String service, boolean frontDoor, RateLimits limits, RateLimiter limiter) {
        this.service = service;
        this.frontDoor = frontDoor;
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
        final boolean forwarded = principal != null && !principal.via().isEmpty();
        if (principal != null && (principal.isService() && !forwarded || forwarded && !frontDoor)) {
            return null;
        }
        if (!forwarded) {
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

    private HttpResponse refuse(ServiceRequestContext ctx, HttpRequest req, long wait, String why) {
        return EdgeReplies.refuse(ctx, req, service,
                                  Errors.of(service + ".sonia.ai", ErrorCode.ERROR_CODE_RATE_LIMITED,
                                            why + "; retry in " + wait + " s",
                                            java.util.Map.of("retry_after_seconds", String.valueOf(wait))),
                                  HttpHeaders.of(HttpHeaderNames.RETRY_AFTER, String.valueOf(wait)));
    }
}
