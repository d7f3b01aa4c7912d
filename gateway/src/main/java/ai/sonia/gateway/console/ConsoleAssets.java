package ai.sonia.gateway.console;

import java.util.regex.Pattern;

import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.RequestHeaders;
import com.linecorp.armeria.common.ServerCacheControl;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServiceRequestContext;
import com.linecorp.armeria.server.file.HttpFile;

/**
 * The console's static files, from {@code console/} in the gateway's jar: {@code index.html} at {@code /} for a
 * browser (a request that accepts HTML; programs still get the service's JSON there) and the rest under
 * {@code /console/}. They need no credential (the sign-in page is one of them) and carry a page policy of their
 * own: scripts, styles and connections to this origin only.
 */
public final class ConsoleAssets implements HttpService {

    /** The route prefix of the files. */
    public static final String PREFIX = "/console/";

    static final String POLICY = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                                 + "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
    private static final Pattern NAME = Pattern.compile("[a-z0-9-]+(/[a-z0-9-]+)*\\.(html|js|css|svg|png)");

    /** Whether this is a request for one of the files. */
    boolean serves(ServiceRequestContext ctx, HttpRequest req) {
        final RequestHeaders headers = req.headers();
        if (headers.method() != HttpMethod.GET && headers.method() != HttpMethod.HEAD) {
            return false;
        }
        final String path = ctx.path();
        if ("/".equals(path)) {
            final String accept = headers.get(HttpHeaderNames.ACCEPT);
            return accept != null && accept.contains("text/html");
        }
        return path.startsWith(PREFIX);
    }

    @Override
    public HttpResponse serve(ServiceRequestContext ctx, HttpRequest req) throws Exception {
        final String path = ctx.path();
        final String name = "/".equals(path) || PREFIX.equals(path) ? "index.html" : path.substring(PREFIX.length());
        if (!NAME.matcher(name).matches()) {
            return HttpResponse.of(HttpStatus.NOT_FOUND);
        }
        ctx.setAdditionalResponseHeader("content-security-policy", POLICY);
        return HttpFile.builder(ConsoleAssets.class.getClassLoader(), "console/" + name)
                       .cacheControl(ServerCacheControl.REVALIDATED)
                       .build().asService().serve(ctx, req);
    }
}
