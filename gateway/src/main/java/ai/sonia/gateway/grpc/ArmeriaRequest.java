package ai.sonia.gateway.grpc;

import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.server.ServiceRequestContext;

import ai.sonia.gateway.domain.CurrentRequest;

/** The request Armeria is serving on this thread, as the domain sees it. */
public final class ArmeriaRequest implements CurrentRequest {

    @Override
    public String clientAddress() {
        final ServiceRequestContext ctx = ServiceRequestContext.currentOrNull();
        return ctx == null ? "" : ctx.clientAddress().getHostAddress();
    }

    @Override
    public void retryAfter(long seconds) {
        final ServiceRequestContext ctx = ServiceRequestContext.currentOrNull();
        if (ctx != null) {
            ctx.addAdditionalResponseHeader(HttpHeaderNames.RETRY_AFTER, String.valueOf(seconds));
        }
    }

    /** The bearer token of the request being served, or "". */
    static String bearer() {
        final String header = ServiceRequestContext.current().request().headers().get(HttpHeaderNames.AUTHORIZATION, "");
        return header.regionMatches(true, 0, "Bearer ", 0, 7) ? header.substring(7).trim() : "";
    }
}
