package ai.sonia.router.grpc;

import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import ai.sonia.common.v1.ErrorCode;
import ai.sonia.router.domain.InvalidFieldException;
import ai.sonia.router.domain.RoutingException;
import ai.sonia.runtime.Errors;
import ai.sonia.runtime.errors.DomainException;
import ai.sonia.runtime.store.StoreUnavailableException;
import io.grpc.StatusRuntimeException;

/** Maps the router's domain exceptions to gRPC errors with ErrorInfo (and field violations). */
final class GrpcErrors {

    static final String DOMAIN = "router.sonia.ai";
    private static final Logger logger = LoggerFactory.getLogger(GrpcErrors.class);

    static StatusRuntimeException toStatus(Throwable error) {
        if (error instanceof StatusRuntimeException status) {
            return status;
        }
        if (error instanceof DomainException refused) {
            return Errors.of(DOMAIN, refused);
        }
        if (error instanceof InvalidFieldException invalid) {
            return Errors.invalidArgument(DOMAIN, invalid.field(), invalid.getMessage());
        }
        if (error instanceof StoreUnavailableException store) {
            return Errors.storeUnavailable(store); // the ledger's disk, not the request
        }
        if (error instanceof RoutingException routing) {
            return Errors.of(DOMAIN, routing.code(), routing.getMessage(), routing.metadata());
        }
        logger.warn("Unexpected router error", error);
        return Errors.of(DOMAIN, ErrorCode.ERROR_CODE_INTERNAL_ERROR, "internal error", Map.of());
    }

    private GrpcErrors() {}
}
