package ai.sonia.runtime;

import java.util.Set;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.google.protobuf.InvalidProtocolBufferException;

import com.linecorp.armeria.common.RequestContext;
import com.linecorp.armeria.common.annotation.Nullable;
import com.linecorp.armeria.common.grpc.GrpcExceptionHandlerFunction;
import com.linecorp.armeria.common.stream.CancelledSubscriptionException;
import com.linecorp.armeria.common.stream.ClosedStreamException;
import com.linecorp.armeria.common.util.Exceptions;
import com.linecorp.armeria.server.RequestTimeoutException;

import ai.sonia.runtime.edge.Envelopes;
import ai.sonia.runtime.errors.DomainException;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;

/**
 * The one mapping of exceptions to gRPC statuses, installed by {@link SoniaServer} for every service:
 * a {@link DomainException} becomes its status with ErrorInfo in the domain {@code <service>.sonia.ai}
 * (and BadRequest for an invalid argument); statuses raised by the services pass as they are;
 * a passed request deadline is DEADLINE_EXCEEDED; a store that cannot write, or a shared engine (Redis) that cannot
 * serve now, is UNAVAILABLE ({@link Errors#dependencyUnavailable}); {@link IllegalArgumentException} is INVALID_ARGUMENT;
 * anything else is INTERNAL with a generic
 * message (the cause stays in the server log, never in the response).
 */
final class DefaultExceptionHandler implements GrpcExceptionHandlerFunction {

    private static final Logger logger = LoggerFactory.getLogger(DefaultExceptionHandler.class);
    private static final String DETAILS = "grpc-status-details-bin";

    private final String domain;

    /** The handler of {@code service}: ErrorInfo of its refusals names {@code <service>.sonia.ai}. */
    DefaultExceptionHandler(String service) {
        domain = service + ".sonia.ai";
    }

    /**
     * A status re-thrown from a downstream call carries that call's trailers, and grpc-java puts the
     * downstream's HTTP headers there ({@code :status}, {@code content-type}, ...) when the error came
     * from HTTP. Sent on, they would corrupt this response (two content types read as UNKNOWN by the
     * client). Only the error details and Sonia's own {@code x-} headers travel on.
     */
    private static void keepOnlyErrorDetails(Metadata metadata) {
        for (String key : Set.copyOf(metadata.keys())) {
            if (key.equals(DETAILS) || (key.startsWith("x-") && !key.equals("x-correlation-id"))) {
                continue;
            }
            if (key.endsWith(Metadata.BINARY_HEADER_SUFFIX)) {
                metadata.discardAll(Metadata.Key.of(key, Metadata.BINARY_BYTE_MARSHALLER));
            } else {
                metadata.discardAll(Metadata.Key.of(key, Metadata.ASCII_STRING_MARSHALLER));
            }
        }
    }

    @Override
    @Nullable
    public Status apply(RequestContext ctx, Status status, Throwable thrown, Metadata metadata) {
        final Throwable cause = Exceptions.peel(thrown);
        if (cause instanceof DomainException e) {
            final StatusRuntimeException error = Errors.of(domain, e);
            metadata.merge(error.getTrailers());
            return error.getStatus();
        }
        if (cause.getCause() instanceof InvalidProtocolBufferException malformed
            && (cause instanceof StatusRuntimeException || cause instanceof StatusException)) {
            // grpc-java's marshaller reports a request it cannot parse (a string that is not UTF-8, a truncated
            // field) as INTERNAL; it is the caller's bad input.
            return Status.INVALID_ARGUMENT.withDescription("malformed request: " + malformed.getMessage())
                                          .withCause(cause);
        }
        if (cause instanceof StatusRuntimeException || cause instanceof StatusException) {
            keepOnlyErrorDetails(metadata);
            return null; // keep the status and its details
        }
        if (cause instanceof ClosedStreamException || cause instanceof CancelledSubscriptionException) {
            return Status.CANCELLED.withDescription("cancelled by the caller").withCause(cause); // nothing to log
        }
        if (cause instanceof RequestTimeoutException) {
            // The call's deadline (the caller's, or the contract's) passed on this side first.
            return Status.DEADLINE_EXCEEDED.withDescription("deadline exceeded").withCause(cause);
        }
        final StatusRuntimeException unavailable = Errors.dependencyUnavailable(domain, cause);
        if (unavailable != null) {
            // The disk or the shared engine, not the request: UNAVAILABLE, retriable.
            metadata.merge(unavailable.getTrailers());
            return unavailable.getStatus();
        }
        if (cause instanceof IllegalArgumentException) {
            return Status.INVALID_ARGUMENT.withDescription(Envelopes.clientMessage(cause.getMessage())).withCause(cause);
        }
        if (cause instanceof InvalidProtocolBufferException) {
            // A REST body that is not valid JSON for the request message (unknown field, wrong type).
            return Status.INVALID_ARGUMENT.withDescription(Envelopes.clientMessage("malformed request: " + cause.getMessage()))
                                          .withCause(cause);
        }
        if (status.getCode() == Status.Code.UNKNOWN || status.getCode() == Status.Code.INTERNAL) {
            logger.warn("Unexpected error in {}", ctx.path(), cause);
            return Status.INTERNAL.withDescription("internal error").withCause(cause);
        }
        return null;
    }
}
