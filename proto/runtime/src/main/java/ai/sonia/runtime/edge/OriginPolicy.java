package ai.sonia.runtime.edge;

import java.util.List;
import java.util.Locale;

import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.server.DecoratingHttpServiceFunction;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServiceRequestContext;

/**
 * Who may open the WebSocket. Browsers always send {@code Origin}, and a page from another site must not
 * ride the user's loopback access (cross-site WebSocket hijacking): a request with an {@code Origin}
 * is accepted only when it matches an allowed origin (scheme and host, any port; "*" allows all).
 * A request without {@code Origin} comes from a program, not a page, and is accepted: other defences
 * (loopback bind, auth at the gateway) cover those. The WebSocket service itself is built to allow any
 * origin so that this rule is the only one.
 */
public final class OriginPolicy implements DecoratingHttpServiceFunction {

    /** The origins a browser page served from this machine has: the default of every WebSocket. */
    public static final List<String> LOCAL_ORIGINS = List.of("http://localhost", "https://localhost",
                                                             "http://127.0.0.1", "https://127.0.0.1",
                                                             "http://[::1]", "https://[::1]");

    private final List<String> allowed;

    public OriginPolicy(List<String> allowed) {
        this.allowed = allowed.stream().map(o -> o.toLowerCase(Locale.ROOT)).toList();
    }

    @Override
    public HttpResponse serve(HttpService delegate, ServiceRequestContext ctx, HttpRequest req) throws Exception {
        final String origin = req.headers().get(HttpHeaderNames.ORIGIN);
        if (origin == null || allows(origin)) {
            return delegate.serve(ctx, req);
        }
        return HttpResponse.of(HttpStatus.FORBIDDEN, MediaType.PLAIN_TEXT_UTF_8, "origin not allowed: " + origin);
    }

    /** Whether a browser origin may connect. */
    public boolean allows(String origin) {
        final String normalized = origin.toLowerCase(Locale.ROOT);
        for (String candidate : allowed) {
            if ("*".equals(candidate) || normalized.equals(candidate) || normalized.startsWith(candidate + ':')) {
                return true;
            }
        }
        return false;
    }
}
