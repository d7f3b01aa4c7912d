package ai.sonia.runtime.auth;

import java.util.List;
import java.util.function.BooleanSupplier;

import com.google.protobuf.Descriptors.ServiceDescriptor;

import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpHeaders;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.QueryParams;
import com.linecorp.armeria.common.annotation.Nullable;
import com.linecorp.armeria.server.DecoratingHttpServiceFunction;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServiceRequestContext;

import ai.sonia.runtime.edge.BlockingCheck;
import ai.sonia.runtime.edge.EdgeReplies;
import io.netty.util.AttributeKey;

/**
 * The front door of every service: each request must prove a principal with {@code Authorization: Bearer},
 * except {@code /healthz} and the contract's anonymous methods. A WebSocket handshake may carry the token as
 * the {@code access_token} query parameter instead, since browsers cannot set headers on one (the access log
 * never writes query strings). {@code /metrics} also takes the metrics token ({@link Secrets#metricsToken}), which
 * opens nothing else. The principal goes on the request context for the service to read; a request
 * without one is refused with UNAUTHENTICATED: 401 and the envelope, or gRPC status 16.
 */
public final class AuthDecorator implements DecoratingHttpServiceFunction {

    private static final AttributeKey<BooleanSupplier> STILL_VALID =
            AttributeKey.valueOf(AuthDecorator.class, "STILL_VALID");
    private static final HttpHeaders CHALLENGE =
            HttpHeaders.of(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"sonia\"");

    private final String service;
    private final Authenticator authenticator;
    private final AnonymousRoutes anonymous;
    @Nullable
    private final byte[] metricsToken;

    public AuthDecorator(String service, Authenticator authenticator, List<ServiceDescriptor> contract) {
        this(service, authenticator, contract, null);
    }

    /** Also lets {@code metricsToken} (a scraper's bearer) read {@code /metrics}, and only that. */
    public AuthDecorator(String service, Authenticator authenticator, List<ServiceDescriptor> contract,
                         @Nullable byte[] metricsToken) {
        this.service = service;
        this.authenticator = authenticator;
        anonymous = new AnonymousRoutes(contract);
        this.metricsToken = metricsToken == null ? null : metricsToken.clone();
    }

    @Override
    public HttpResponse serve(HttpService delegate, ServiceRequestContext ctx, HttpRequest req) throws Exception {
        final String bearer = bearer(ctx, req);
        final boolean open = anonymous.contains(ctx.path());
        if (bearer == null) {
            return open ? delegate.serve(ctx, req) : refuse(ctx, req, "a credential is required: Authorization: Bearer <token>");
        }
        if (metricsToken != null && "/metrics".equals(ctx.path()) && Secrets.isMetricsToken(metricsToken, bearer)) {
            return delegate.serve(ctx, req);
        }
        if (bearer.startsWith(Authenticator.API_KEY_PREFIX)) {
            // An API key is looked up in the gateway's account store (a database, PostgreSQL with replicas).
            return BlockingCheck.thenServe(ctx, req, delegate, () -> authenticate(bearer, ctx, req));
        }
        final HttpResponse refusal = authenticate(bearer, ctx, req);
        return refusal != null ? refusal : delegate.serve(ctx, req);
    }

    // Puts the principal the bearer proves on the context and returns null; a refusal when it proves none.
    @Nullable
    private HttpResponse authenticate(String bearer, ServiceRequestContext ctx, HttpRequest req) {
        final Principal principal;
        try {
            principal = authenticator.authenticate(bearer);
        } catch (AuthenticationException e) {
            return refuse(ctx, req, e.getMessage());
        }
        ctx.setAttr(Principal.ATTR, principal);
        ctx.setAttr(STILL_VALID, authenticator.notRevoked(bearer, principal));
        return null;
    }

    /**
     * Whether the credential of a long-lived request (a WebSocket, a stream) still holds: false once it was
     * revoked (its session logged out, its key deleted, its user disabled, deleted or given another role).
     * Such a request should end itself when this turns false; a check costs a map look-up.
     */
    public static BooleanSupplier stillValid(ServiceRequestContext ctx) {
        final BooleanSupplier check = ctx.attr(STILL_VALID);
        return check != null ? check : () -> true;
    }

    private HttpResponse refuse(ServiceRequestContext ctx, HttpRequest req, String why) {
        return EdgeReplies.refuse(ctx, req, service, Principal.unauthenticated(why), CHALLENGE);
    }

    @Nullable
    private static String bearer(ServiceRequestContext ctx, HttpRequest req) {
        final String header = req.headers().get(HttpHeaderNames.AUTHORIZATION);
        if (header != null) {
            return header.regionMatches(true, 0, "Bearer ", 0, 7) ? header.substring(7).trim() : "";
        }
        if (isWebSocketHandshake(req)) {
            return QueryParams.fromQueryString(ctx.query()).get("access_token");
        }
        return null;
    }

    private static boolean isWebSocketHandshake(HttpRequest req) {
        return req.headers().contains(HttpHeaderNames.SEC_WEBSOCKET_VERSION)
               || "websocket".equalsIgnoreCase(req.headers().get(HttpHeaderNames.PROTOCOL));
    }
}
