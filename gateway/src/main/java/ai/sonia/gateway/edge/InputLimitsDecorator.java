package ai.sonia.gateway.edge;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

import com.linecorp.armeria.common.HttpHeaders;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.server.DecoratingHttpServiceFunction;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServiceRequestContext;

import ai.sonia.runtime.Errors;
import ai.sonia.runtime.edge.EdgeReplies;

/**
 * The gateway's edge checks of what a client sends, before anything parses it: a path longer than
 * {@link #MAX_PATH} characters, and a REST request whose JSON body is not valid UTF-8, are refused with
 * INVALID_ARGUMENT (400 and the envelope), never passed on to fail deeper as a 500. gRPC bodies are protobuf,
 * whose strings the gRPC library checks itself.
 */
public final class InputLimitsDecorator implements DecoratingHttpServiceFunction {

    /** The longest path accepted: every Sonia route with its ids fits in far less. */
    static final int MAX_PATH = 1024;

    @Override
    public HttpResponse serve(HttpService delegate, ServiceRequestContext ctx, HttpRequest req) throws Exception {
        if (ctx.path().length() > MAX_PATH) {
            return refuse(ctx, req, "path", ctx.path().length() + " characters (expected: <= " + MAX_PATH + ')');
        }
        final MediaType type = req.contentType();
        if (type == null || EdgeReplies.isGrpc(req.headers()) || !type.isJson()) {
            return delegate.serve(ctx, req);
        }
        return HttpResponse.of(req.aggregate().thenApply(body -> {
            if (!isUtf8(body.content().byteBuf().nioBuffer())) {
                return refuse(ctx, req, "body", "not valid UTF-8");
            }
            try {
                return delegate.serve(ctx, body.toHttpRequest());
            } catch (Exception e) {
                return HttpResponse.ofFailure(e);
            }
        }));
    }

    private static boolean isUtf8(ByteBuffer bytes) {
        try {
            StandardCharsets.UTF_8.newDecoder()
                                  .onMalformedInput(CodingErrorAction.REPORT)
                                  .onUnmappableCharacter(CodingErrorAction.REPORT)
                                  .decode(bytes);
            return true;
        } catch (CharacterCodingException e) {
            return false;
        }
    }

    private static HttpResponse refuse(ServiceRequestContext ctx, HttpRequest req, String field, String why) {
        return EdgeReplies.refuse(ctx, req, "gateway", Errors.invalidArgument("gateway.sonia.ai", field, why),
                                  HttpHeaders.of());
    }
}
