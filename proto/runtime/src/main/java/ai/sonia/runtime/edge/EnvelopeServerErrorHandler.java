package ai.sonia.runtime.edge;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.RequestHeaders;
import com.linecorp.armeria.common.annotation.Nullable;
import com.linecorp.armeria.server.HttpStatusException;
import com.linecorp.armeria.server.ServerErrorHandler;
import com.linecorp.armeria.server.ServiceConfig;
import com.linecorp.armeria.server.ServiceRequestContext;

import io.grpc.Status;

/**
 * Errors raised outside any gRPC method (unknown routes, malformed requests, unexpected exceptions)
 * answer with the envelope too. gRPC requests keep Armeria's default handling, so gRPC clients see
 * gRPC statuses.
 */
public final class EnvelopeServerErrorHandler implements ServerErrorHandler {

    private static final Logger logger = LoggerFactory.getLogger(EnvelopeServerErrorHandler.class);

    private final String service;

    public EnvelopeServerErrorHandler(String service) {
        this.service = service;
    }

    @Override
    @Nullable
    public HttpResponse onServiceException(ServiceRequestContext ctx, Throwable cause) {
        if (isGrpc(ctx.request().headers())) {
            return null;
        }
        final int httpStatus;
        final String message;
        if (cause instanceof HttpStatusException e) {
            httpStatus = e.httpStatus().code();
            final Throwable why = e.getCause();
            if (httpStatus == 400) {
                message = why != null && why.getMessage() != null ? "malformed request: " + abbreviate(why.getMessage())
                                                                  : "malformed request body";
            } else {
                message = e.httpStatus().reasonPhrase();
            }
        } else if (cause instanceof IllegalArgumentException) {
            httpStatus = 400;
            message = "malformed request: " + abbreviate(cause.getMessage());
        } else {
            logger.warn("Unexpected error serving {} {}", ctx.method(), ctx.path(), cause);
            httpStatus = 500;
            message = "internal error";
        }
        return Envelopes.error(ctx, service, ErrorMapping.grpcCodeOfHttp(httpStatus), message, null)
                        .toHttpResponse();
    }

    @Override
    @Nullable
    public AggregatedHttpResponse renderStatus(@Nullable ServiceRequestContext ctx, ServiceConfig config,
                                               @Nullable RequestHeaders headers, HttpStatus status,
                                               @Nullable String description, @Nullable Throwable cause) {
        if (ctx == null || (headers != null && isGrpc(headers)) || status.code() < 400) {
            return null;
        }
        final Status.Code code = ErrorMapping.grpcCodeOfHttp(status.code());
        final String message;
        if (status.code() == 404) {
            message = "no route for " + ctx.method() + ' ' + ctx.path();
        } else if (status.code() == 400) {
            message = cause != null && cause.getMessage() != null ? "malformed request: " + abbreviate(cause.getMessage())
                                                                  : "malformed request body";
        } else {
            message = description != null ? description : status.reasonPhrase();
        }
        final AggregatedHttpResponse envelope = Envelopes.error(ctx, service, code, message, null);
        // Keep the HTTP status Armeria decided (405, 413, ...) while the body carries the envelope.
        return AggregatedHttpResponse.of(envelope.headers().toBuilder().status(status).build(), envelope.content());
    }

    private static String abbreviate(String s) {
        final String oneLine = s.replaceAll("\\s+", " ");
        return oneLine.length() <= 200 ? oneLine : oneLine.substring(0, 200) + "...";
    }

    private static boolean isGrpc(RequestHeaders headers) {
        final MediaType type = headers.contentType();
        return type != null && type.subtype().startsWith("grpc");
    }
}
