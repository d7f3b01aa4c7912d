package ai.sonia.pipecat.grpc;

import com.linecorp.armeria.common.RequestContext;
import com.linecorp.armeria.common.annotation.Nullable;
import com.linecorp.armeria.common.grpc.GrpcExceptionHandlerFunction;

import ai.sonia.common.v1.ErrorCode;
import ai.sonia.pipecat.domain.SessionException;
import ai.sonia.runtime.Errors;
import io.grpc.Metadata;
import io.grpc.Status;

/** Maps session exceptions to statuses with ErrorInfo; anything else gets the runtime's default mapping. */
public final class PipecatExceptionHandler implements GrpcExceptionHandlerFunction {

    static final String DOMAIN = "pipecat.sonia.ai";

    @Override
    public @Nullable Status apply(RequestContext ctx, Status status, Throwable cause, Metadata metadata) {
        if (!(cause instanceof SessionException e)) {
            return null;
        }
        final var error = switch (e.kind()) {
            case NOT_FOUND -> Errors.of(DOMAIN, ErrorCode.ERROR_CODE_NOT_FOUND, e.getMessage(), e.metadata());
            case INVALID_TRANSITION -> Errors.of(DOMAIN, ErrorCode.ERROR_CODE_CONFLICT, e.getMessage(), e.metadata());
            case LIMIT -> Errors.of(DOMAIN, ErrorCode.ERROR_CODE_RATE_LIMITED, e.getMessage(), e.metadata());
            case INVALID_ARGUMENT -> Errors.invalidArgument(DOMAIN, e.field(), e.getMessage());
            case PERMISSION_DENIED ->
                    Errors.of(DOMAIN, ErrorCode.ERROR_CODE_PERMISSION_DENIED, e.getMessage(), e.metadata());
        };
        metadata.merge(error.getTrailers());
        return error.getStatus().withCause(cause);
    }
}
