package ai.sonia.runtime.edge;

import java.util.Locale;

import com.linecorp.armeria.common.annotation.Nullable;

import ai.sonia.common.v1.ErrorCode;
import io.grpc.Status;

/**
 * The one table between gRPC status codes, ErrorInfo reasons, envelope error codes and HTTP statuses.
 * The envelope code comes from the gRPC code and the reason; the HTTP status comes from the gRPC code.
 */
public final class ErrorMapping {

    /** The envelope code of a gRPC status with an optional {@code ErrorInfo.reason}. */
    public static ErrorCode errorCode(Status.Code code, @Nullable String reason) {
        if (code == Status.Code.PERMISSION_DENIED && reason != null) {
            if (ErrorMapping.wireName(ErrorCode.ERROR_CODE_POLICY_DENIED).equals(reason)) {
                return ErrorCode.ERROR_CODE_POLICY_DENIED;
            }
            if (ErrorMapping.wireName(ErrorCode.ERROR_CODE_APPROVAL_REQUIRED).equals(reason)) {
                return ErrorCode.ERROR_CODE_APPROVAL_REQUIRED;
            }
        }
        if (code == Status.Code.FAILED_PRECONDITION && wireName(ErrorCode.ERROR_CODE_TRAINING_LOCKED).equals(reason)) {
            return ErrorCode.ERROR_CODE_TRAINING_LOCKED;
        }
        if (code == Status.Code.UNIMPLEMENTED && wireName(ErrorCode.ERROR_CODE_METHOD_NOT_ALLOWED).equals(reason)) {
            return ErrorCode.ERROR_CODE_METHOD_NOT_ALLOWED;
        }
        return switch (code) {
            case OK -> ErrorCode.ERROR_CODE_UNSPECIFIED;
            case INVALID_ARGUMENT, OUT_OF_RANGE -> ErrorCode.ERROR_CODE_INVALID_ARGUMENT;
            case NOT_FOUND -> ErrorCode.ERROR_CODE_NOT_FOUND;
            case DEADLINE_EXCEEDED -> ErrorCode.ERROR_CODE_TIMEOUT;
            case UNAVAILABLE -> ErrorCode.ERROR_CODE_UNAVAILABLE;
            case PERMISSION_DENIED -> ErrorCode.ERROR_CODE_PERMISSION_DENIED;
            case UNAUTHENTICATED -> ErrorCode.ERROR_CODE_UNAUTHENTICATED;
            case RESOURCE_EXHAUSTED -> ErrorCode.ERROR_CODE_RATE_LIMITED;
            case ALREADY_EXISTS, ABORTED, FAILED_PRECONDITION -> ErrorCode.ERROR_CODE_CONFLICT;
            case CANCELLED, UNKNOWN, UNIMPLEMENTED, INTERNAL, DATA_LOSS -> ErrorCode.ERROR_CODE_INTERNAL_ERROR;
        };
    }

    /** The canonical gRPC code an envelope code is raised with. */
    public static Status.Code grpcCode(ErrorCode code) {
        return switch (code) {
            case ERROR_CODE_INVALID_ARGUMENT -> Status.Code.INVALID_ARGUMENT;
            case ERROR_CODE_NOT_FOUND -> Status.Code.NOT_FOUND;
            case ERROR_CODE_TIMEOUT -> Status.Code.DEADLINE_EXCEEDED;
            case ERROR_CODE_UNAVAILABLE -> Status.Code.UNAVAILABLE;
            case ERROR_CODE_POLICY_DENIED, ERROR_CODE_APPROVAL_REQUIRED, ERROR_CODE_PERMISSION_DENIED ->
                    Status.Code.PERMISSION_DENIED;
            case ERROR_CODE_UNAUTHENTICATED -> Status.Code.UNAUTHENTICATED;
            case ERROR_CODE_RATE_LIMITED -> Status.Code.RESOURCE_EXHAUSTED;
            case ERROR_CODE_CONFLICT, ERROR_CODE_TRAINING_LOCKED -> Status.Code.FAILED_PRECONDITION;
            case ERROR_CODE_METHOD_NOT_ALLOWED -> Status.Code.UNIMPLEMENTED;
            case ERROR_CODE_INTERNAL_ERROR, ERROR_CODE_UNSPECIFIED, UNRECOGNIZED -> Status.Code.INTERNAL;
        };
    }

    /** The HTTP status that a gRPC code implies at the REST edge. */
    public static int httpStatus(Status.Code code) {
        return switch (code) {
            case OK -> 200;
            case INVALID_ARGUMENT, OUT_OF_RANGE -> 400;
            case UNAUTHENTICATED -> 401;
            case PERMISSION_DENIED -> 403;
            case NOT_FOUND -> 404;
            case ALREADY_EXISTS, ABORTED, FAILED_PRECONDITION -> 409;
            case RESOURCE_EXHAUSTED -> 429;
            case CANCELLED -> 499;
            case UNKNOWN, INTERNAL, DATA_LOSS -> 500;
            case UNIMPLEMENTED -> 501;
            case UNAVAILABLE -> 503;
            case DEADLINE_EXCEEDED -> 504;
        };
    }

    /** The gRPC code closest to an HTTP status, for errors raised before any gRPC method ran. */
    public static Status.Code grpcCodeOfHttp(int httpStatus) {
        return switch (httpStatus) {
            case 400, 413, 415, 422 -> Status.Code.INVALID_ARGUMENT;
            case 401 -> Status.Code.UNAUTHENTICATED;
            case 403 -> Status.Code.PERMISSION_DENIED;
            case 404 -> Status.Code.NOT_FOUND;
            case 405 -> Status.Code.UNIMPLEMENTED; // with the reason METHOD_NOT_ALLOWED: see errorCode
            case 409 -> Status.Code.FAILED_PRECONDITION;
            case 429 -> Status.Code.RESOURCE_EXHAUSTED;
            case 501 -> Status.Code.UNIMPLEMENTED;
            case 503 -> Status.Code.UNAVAILABLE;
            case 408, 504 -> Status.Code.DEADLINE_EXCEEDED;
            default -> httpStatus >= 500 ? Status.Code.INTERNAL : Status.Code.INVALID_ARGUMENT;
        };
    }

    /** The name of a code on the wire: {@code ERROR_CODE_NOT_FOUND} is {@code "NOT_FOUND"}. */
    public static String wireName(ErrorCode code) {
        return code.name().substring("ERROR_CODE_".length());
    }

    /** The code with this wire name ("NOT_FOUND"), or null. */
    @Nullable
    public static ErrorCode fromWireName(String name) {
        try {
            return ErrorCode.valueOf("ERROR_CODE_" + name.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private ErrorMapping() {}
}
