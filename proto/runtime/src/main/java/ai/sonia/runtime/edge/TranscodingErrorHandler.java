package ai.sonia.runtime.edge;

import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.server.ServiceRequestContext;
import com.linecorp.armeria.server.grpc.UnframedGrpcErrorHandler;

import io.grpc.Status;

/**
 * Renders a gRPC error of a transcoded REST call as the envelope: HTTP status from the gRPC code,
 * {@code error.code} from the code and {@code ErrorInfo.reason}, details from the status details.
 */
public final class TranscodingErrorHandler implements UnframedGrpcErrorHandler {

    private final String service;

    public TranscodingErrorHandler(String service) {
        this.service = service;
    }

    @Override
    public HttpResponse handle(ServiceRequestContext ctx, Status status, AggregatedHttpResponse response) {
        final com.google.rpc.Status details = Envelopes.statusDetails(response.trailers(), response.headers());
        String message = status.getDescription();
        if (message == null || message.isEmpty()) {
            message = details != null && !details.getMessage().isEmpty() ? details.getMessage()
                                                                           : status.getCode().name();
        }
        return Envelopes.error(ctx, service, status.getCode(), message, details).toHttpResponse();
    }
}
