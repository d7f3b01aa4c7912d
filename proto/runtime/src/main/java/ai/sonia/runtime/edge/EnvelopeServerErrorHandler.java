package ai.sonia.runtime.edge;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpHeaders;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.RequestHeaders;
import com.linecorp.armeria.common.ShuttingDownException;
import com.linecorp.armeria.common.annotation.Nullable;
import com.linecorp.armeria.common.util.Exceptions;
import com.linecorp.armeria.server.HttpStatusException;
import com.linecorp.armeria.server.RequestTimeoutException;
import com.linecorp.armeria.server.ServerErrorHandler;
import com.linecorp.armeria.server.ServiceConfig;
import com.linecorp.armeria.server.ServiceRequestContext;

import ai.sonia.common.v1.ErrorCode;
import ai.sonia.runtime.Errors;
import ai.sonia.runtime.errors.DomainException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;

/**
 * The one edge error handler: errors raised outside any gRPC method (unknown routes, a method the route
 * does not take, malformed requests, unexpected exceptions) answer with the envelope too, with messages
 * cleaned of library class names ({@link Envelopes#clientMessage}). gRPC requests get a gRPC status, never
 * an HTTP error page: a deadline that passes before the gRPC call took over (a {@code grpc-timeout} of a
 * millisecond or two) is DEADLINE_EXCEEDED, a server shutting down is UNAVAILABLE. A {@code DomainException}
 * escaping a plain HTTP route is its code with ErrorInfo, as the gRPC exception handler makes it.
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
        final StatusRuntimeException unavailable = Errors.dependencyUnavailable(service + ".sonia.ai",
                                                                                Exceptions.peel(cause));
        if (unavailable != null) {
            // A store or the shared engine failing in a decorator (the gateway's shared rate limits): UNAVAILABLE.
            return EdgeReplies.isGrpc(ctx.request().headers())
                   ? EdgeReplies.refuse(ctx, ctx.request(), service, unavailable, HttpHeaders.of())
                   : Envelopes.error(ctx, service, Status.Code.UNAVAILABLE, unavailable.getStatus().getDescription(),
                                     StatusProto.fromThrowable(unavailable)).toHttpResponse();
        }
        if (EdgeReplies.isGrpc(ctx.request().headers())) {
            final Status status = grpcStatusOf(cause);
            return status == null ? null : EdgeReplies.refuse(ctx, ctx.request(), service, status.asRuntimeException(),
                                                              HttpHeaders.of());
        }
        final Status status = grpcStatusOf(cause);
        if (status != null) {
            return Envelopes.error(ctx, service, status.getCode(), status.getDescription(), null).toHttpResponse();
        }
        if (Exceptions.peel(cause) instanceof DomainException e) {
            // A refusal of the service's domain from a plain HTTP route (SSE, WebSocket upgrade): as over gRPC.
            final StatusRuntimeException error = Errors.of(service + ".sonia.ai", e);
            return Envelopes.error(ctx, service, error.getStatus().getCode(), error.getStatus().getDescription(),
                                   StatusProto.fromThrowable(error)).toHttpResponse();
        }
        if (cause instanceof HttpStatusException e) {
            // Rendered as Armeria's own statuses are, keeping the HTTP status (405, 413, ...).
            final AggregatedHttpResponse rendered =
                    renderStatus(ctx, ctx.config(), ctx.request().headers(), e.httpStatus(), null, e.getCause());
            return rendered != null ? rendered.toHttpResponse() : null;
        }
        if (cause instanceof IllegalArgumentException) {
            return Envelopes.error(ctx, service, Status.Code.INVALID_ARGUMENT, "malformed request: " + cause.getMessage(),
                                   null).toHttpResponse();
        }
        logger.warn("Unexpected error serving {} {}", ctx.method(), ctx.path(), cause);
        return Envelopes.error(ctx, service, Status.Code.INTERNAL, "internal error", null).toHttpResponse();
    }

    @Override
    @Nullable
    public AggregatedHttpResponse renderStatus(@Nullable ServiceRequestContext ctx, ServiceConfig config,
                                               @Nullable RequestHeaders headers, HttpStatus status,
                                               @Nullable String description, @Nullable Throwable cause) {
        if (ctx == null || (headers != null && EdgeReplies.isGrpc(headers)) || status.code() < 400) {
            return null;
        }
        final Status.Code code = ErrorMapping.grpcCodeOfHttp(status.code());
        final String message;
        com.google.rpc.Status details = null;
        if (status.code() == 405) {
            message = ctx.method() + " is not allowed on " + ctx.path();
            details = com.google.rpc.Status.newBuilder().setCode(code.value()).setMessage(message).addDetails(
                    com.google.protobuf.Any.pack(com.google.rpc.ErrorInfo.newBuilder()
                            .setReason(ErrorMapping.wireName(ErrorCode.ERROR_CODE_METHOD_NOT_ALLOWED))
                            .setDomain("sonia.ai")
                            .putMetadata("method", ctx.method().name()).build())).build();
        } else if (status.code() == 404) {
            message = "no route for " + ctx.method() + ' ' + ctx.path();
        } else if (status.code() == 400) {
            message = cause != null && cause.getMessage() != null ? "malformed request: " + cause.getMessage()
                                                                  : "malformed request body";
        } else {
            message = description != null ? description : status.reasonPhrase();
        }
        final AggregatedHttpResponse envelope = Envelopes.error(ctx, service, code, message, details);
        // Keep the HTTP status Armeria decided (405, 413, ...) while the body carries the envelope.
        return AggregatedHttpResponse.of(envelope.headers().toBuilder().status(status).build(), envelope.content());
    }

    /** The gRPC status of a failure that is not the service's doing: a deadline, a shutdown; else null. */
    @Nullable
    private static Status grpcStatusOf(Throwable cause) {
        if (cause instanceof RequestTimeoutException) {
            return Status.DEADLINE_EXCEEDED.withDescription("deadline exceeded");
        }
        if (cause instanceof ShuttingDownException) {
            return Status.UNAVAILABLE.withDescription("the server is shutting down");
        }
        return null;
    }
}
