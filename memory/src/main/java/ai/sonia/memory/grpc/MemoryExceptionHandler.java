package ai.sonia.memory.grpc;

import java.util.Map;

import com.linecorp.armeria.common.RequestContext;
import com.linecorp.armeria.common.annotation.Nullable;
import com.linecorp.armeria.common.grpc.GrpcExceptionHandlerFunction;

import ai.sonia.common.v1.ErrorCode;
import ai.sonia.memory.domain.Embedder.EmbedderUnavailableException;
import ai.sonia.memory.domain.MemoryException;
import ai.sonia.runtime.Errors;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/** Maps the engine's refusals to gRPC statuses with ErrorInfo; the runtime's default mapping does the rest. */
public final class MemoryExceptionHandler implements GrpcExceptionHandlerFunction {

    private static final String DOMAIN = "memory.sonia.ai";

    @Override
    @Nullable
    public Status apply(RequestContext ctx, Status status, Throwable cause, Metadata metadata) {
        final StatusRuntimeException mapped;
        if (cause instanceof MemoryException e) {
            mapped = switch (e.kind()) {
                case INVALID_ARGUMENT -> Errors.invalidArgument(DOMAIN, e.subject(), e.getMessage());
                case NOT_FOUND -> Errors.notFound(DOMAIN, e.resource(), e.subject());
                case CONFLICT -> Errors.of(DOMAIN, ErrorCode.ERROR_CODE_CONFLICT, e.getMessage(),
                                           Map.of("name", e.subject()));
            };
        } else if (cause instanceof EmbedderUnavailableException e) {
            mapped = Errors.of(DOMAIN, ErrorCode.ERROR_CODE_UNAVAILABLE, e.getMessage(), Map.of());
        } else {
            return null;
        }
        final Metadata trailers = mapped.getTrailers();
        if (trailers != null) {
            metadata.merge(trailers);
        }
        return mapped.getStatus();
    }
}
