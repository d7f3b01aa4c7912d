package ai.sonia.gateway.console;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.Cookie;
import com.linecorp.armeria.common.Cookies;
import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.RequestHeaders;
import com.linecorp.armeria.common.annotation.Nullable;
import com.linecorp.armeria.server.DecoratingHttpServiceFunction;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServiceRequestContext;

import ai.sonia.runtime.edge.Envelopes;
import io.grpc.Status;

/**
 * The browser's way in, ahead of authentication: a session cookie as an alternative to
 * {@code Authorization: Bearer}, and the console's static pages (which need no credential).
 *
 * <ul>
 *   <li>{@code POST /api/auth/login} with {@code X-Sonia-Session: cookie} answers as usual, but the tokens go
 *       into cookies instead of the body: {@value #SESSION} (the access token; {@code HttpOnly},
 *       {@code SameSite=Strict}, {@code Path=/}, {@code Secure} under TLS), {@value #REFRESH} (the refresh
 *       token, {@code HttpOnly}, sent only to {@code /api/auth/refresh}) and {@value #CSRF} (a random value the
 *       page's own script reads and sends back).</li>
 *   <li>A request without {@code Authorization} that carries the session cookie is authenticated by it, as if
 *       its access token were the bearer (so {@code /docs}, SSE and the approvals WebSocket work too). A
 *       state-changing one (any method but GET, HEAD and OPTIONS) must carry {@code X-CSRF-Token} equal to the
 *       {@value #CSRF} cookie (double submit), else it is refused: 403 and the envelope.</li>
 *   <li>{@code POST /api/auth/refresh} with the refresh cookie (and the CSRF header) rotates the cookies;
 *       {@code POST /api/auth/logout} ends the login session (every token of it, on every service) and clears
 *       them.</li>
 * </ul>
 * A request with {@code Authorization} is left as it is: programs see no change.
 */
public final class ConsoleSessions implements DecoratingHttpServiceFunction {

    public static final String SESSION = "sonia_session";
    public static final String REFRESH = "sonia_refresh";
    public static final String CSRF = "sonia_csrf";
    public static final String CSRF_HEADER = "x-csrf-token";
    public static final String MODE_HEADER = "x-sonia-session";

    static final String LOGIN = "/api/auth/login";
    static final String REFRESH_PATH = "/api/auth/refresh";
    static final String LOGOUT = "/api/auth/logout";

    private static final ObjectMapper mapper = new ObjectMapper();
    private static final SecureRandom random = new SecureRandom();

    private final String service;
    private final ConsoleAssets assets;

    public ConsoleSessions(String service, ConsoleAssets assets) {
        this.service = service;
        this.assets = assets;
    }

    @Override
    public HttpResponse serve(HttpService delegate, ServiceRequestContext ctx, HttpRequest req) throws Exception {
        if (assets.serves(ctx, req)) {
            return assets.serve(ctx, req);
        }
        final RequestHeaders headers = req.headers();
        if (headers.contains(HttpHeaderNames.AUTHORIZATION)) {
            return delegate.serve(ctx, req);
        }
        final String path = ctx.path();
        final boolean post = headers.method() == HttpMethod.POST;
        if (post && LOGIN.equals(path) && "cookie".equalsIgnoreCase(headers.get(MODE_HEADER))) {
            return issue(ctx, delegate.serve(ctx, req));
        }
        final Cookies cookies = headers.cookies();
        final String session = value(cookies, SESSION);
        final String refresh = value(cookies, REFRESH);
        if (session == null && refresh == null) {
            return delegate.serve(ctx, req);
        }
        if (!safe(headers.method()) && !csrfHolds(headers.get(CSRF_HEADER), value(cookies, CSRF))) {
            return Envelopes.error(ctx, service, Status.Code.PERMISSION_DENIED,
                                   "a request authenticated by the session cookie must carry the X-CSRF-Token header "
                                   + "(the value of the sonia_csrf cookie)", null).toHttpResponse();
        }
        if (post && REFRESH_PATH.equals(path) && refresh != null) {
            final ObjectNode body = mapper.createObjectNode().put("refresh_token", refresh);
            final RequestHeaders json = headers.toBuilder().contentType(MediaType.JSON_UTF_8)
                                               .removeAndThen(HttpHeaderNames.CONTENT_LENGTH).build();
            final HttpRequest replaced = HttpRequest.of(json, HttpData.ofUtf8(body.toString()));
            req.abort(); // its body is not read: the refresh cookie is the credential
            ctx.updateRequest(replaced);
            return issue(ctx, delegate.serve(ctx, replaced));
        }
        if (session == null) {
            return delegate.serve(ctx, req);
        }
        // The request as the services see it (ctx.request() too): as if the access token were the bearer.
        final HttpRequest authorized =
                req.withHeaders(headers.toBuilder().set(HttpHeaderNames.AUTHORIZATION, "Bearer " + session));
        ctx.updateRequest(authorized);
        final HttpResponse response = delegate.serve(ctx, authorized);
        if (post && LOGOUT.equals(path)) {
            clear(ctx);
        }
        return response;
    }

    /** Moves the tokens of a successful login or refresh from the body into cookies. */
    private static HttpResponse issue(ServiceRequestContext ctx, HttpResponse response) {
        return HttpResponse.of(response.aggregate().thenApply(aggregated -> {
            if (aggregated.status().code() != 200) {
                if (aggregated.status().code() == 401) {
                    clear(ctx);
                }
                return aggregated.toHttpResponse();
            }
            final JsonNode envelope;
            try {
                envelope = mapper.readTree(aggregated.contentUtf8());
            } catch (java.io.IOException e) {
                return aggregated.toHttpResponse();
            }
            final JsonNode data = envelope.path("data");
            if (!(data instanceof ObjectNode tokens) || tokens.path("access_token").asText().isEmpty()) {
                return aggregated.toHttpResponse();
            }
            final boolean tls = ctx.sessionProtocol().isTls();
            final long refreshSeconds = tokens.path("refresh_expires_in").asLong();
            final String csrf = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes(32));
            setCookies(ctx, List.of(
                    cookie(SESSION, tokens.path("access_token").asText(), true, "/", refreshSeconds, tls),
                    cookie(REFRESH, tokens.path("refresh_token").asText(), true, REFRESH_PATH, refreshSeconds, tls),
                    cookie(CSRF, csrf, false, "/", refreshSeconds, tls)));
            tokens.remove(List.of("access_token", "refresh_token"));
            return AggregatedHttpResponse.of(
                    aggregated.headers().toBuilder().removeAndThen(HttpHeaderNames.CONTENT_LENGTH).build(),
                    HttpData.ofUtf8(envelope.toString())).toHttpResponse();
        }));
    }

    private static void clear(ServiceRequestContext ctx) {
        final boolean tls = ctx.sessionProtocol().isTls();
        setCookies(ctx, List.of(cookie(SESSION, "", true, "/", 0, tls),
                                cookie(REFRESH, "", true, REFRESH_PATH, 0, tls),
                                cookie(CSRF, "", false, "/", 0, tls)));
    }

    private static void setCookies(ServiceRequestContext ctx, List<Cookie> cookies) {
        ctx.mutateAdditionalResponseHeaders(h -> {
            h.remove(HttpHeaderNames.SET_COOKIE);
            cookies.forEach(c -> h.add(HttpHeaderNames.SET_COOKIE, c.toSetCookieHeader()));
        });
    }

    private static Cookie cookie(String name, String value, boolean httpOnly, String path, long maxAge, boolean tls) {
        return Cookie.secureBuilder(name, value).httpOnly(httpOnly).secure(tls).sameSite("Strict").path(path)
                     .maxAge(maxAge).build();
    }

    private static boolean safe(HttpMethod method) {
        return method == HttpMethod.GET || method == HttpMethod.HEAD || method == HttpMethod.OPTIONS;
    }

    private static boolean csrfHolds(@Nullable String header, @Nullable String cookie) {
        return header != null && cookie != null && !cookie.isEmpty()
               && MessageDigest.isEqual(header.getBytes(StandardCharsets.UTF_8), cookie.getBytes(StandardCharsets.UTF_8));
    }

    @Nullable
    private static String value(Cookies cookies, String name) {
        for (Cookie cookie : cookies) {
            if (name.equals(cookie.name()) && !cookie.value().isEmpty()) {
                return cookie.value();
            }
        }
        return null;
    }

    private static byte[] bytes(int n) {
        final byte[] bytes = new byte[n];
        random.nextBytes(bytes);
        return bytes;
    }
}
