package ai.sonia.runtime;

import java.util.Map;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.BadRequest;
import com.google.rpc.ErrorInfo;

import com.linecorp.armeria.common.annotation.Nullable;

import ai.sonia.common.v1.ErrorCode;
import ai.sonia.runtime.auth.RevocationListUnavailableException;
import ai.sonia.runtime.cluster.SharedEngine;
import ai.sonia.runtime.edge.ErrorMapping;
import ai.sonia.runtime.errors.DomainException;
import ai.sonia.runtime.store.StoreUnavailableException;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;

/**
 * Builds gRPC errors that carry {@code google.rpc.ErrorInfo} (reason = the envelope code) and, for
 * validation errors, {@code BadRequest} field violations, as AIP-193 asks.
 */
public final class Errors {

    /**
     * The longest message, metadata value or field description an error carries. Errors often echo what the
     * client sent; an echoed 3,000-character path once made the gRPC trailers (grpc-message and the details)
     * exceed HTTP/2's 8 KiB header limit, so the callee's answer was lost and the caller saw a 500.
     */
    static final int MAX_TEXT = 256;

    /** {@code text}, cut to {@link #MAX_TEXT} characters with a note of how long it was. */
    public static String clip(String text) {
        if (text.length() <= MAX_TEXT) {
            return text;
        }
        return text.substring(0, MAX_TEXT) + "... (" + text.length() + " characters)";
    }

    /** An error with the given envelope code, message and ErrorInfo metadata. */
    public static StatusRuntimeException of(String domain, ErrorCode code, String message,
                                            Map<String, String> metadata) {
        return build(domain, ErrorMapping.grpcCode(code), code, message, metadata, null, null);
    }

    /** INVALID_ARGUMENT naming the offending field. */
    public static StatusRuntimeException invalidArgument(String domain, String field, String description) {
        return build(domain, io.grpc.Status.Code.INVALID_ARGUMENT, ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
                     field + ": " + description, Map.of("field", field), field, description);
    }

    /**
     * The status of a domain's refusal: its code's canonical gRPC code (ALREADY_EXISTS for
     * {@link DomainException#alreadyExists}), ErrorInfo in {@code domain} with its metadata, and BadRequest
     * for an invalid argument.
     */
    public static StatusRuntimeException of(String domain, DomainException e) {
        final io.grpc.Status.Code grpc = e.isAlreadyExists() ? io.grpc.Status.Code.ALREADY_EXISTS
                                                             : ErrorMapping.grpcCode(e.code());
        final String field = e.field().isEmpty() ? null : e.field();
        final StatusRuntimeException error =
                build(domain, grpc, e.code(), e.getMessage(), e.metadata(), field, e.fieldDescription());
        return new StatusRuntimeException(error.getStatus().withCause(e), error.getTrailers());
    }

    private static StatusRuntimeException build(String domain, io.grpc.Status.Code grpc, ErrorCode code,
                                                String message, Map<String, String> metadata,
                                                @Nullable String field, @Nullable String description) {
        final com.google.rpc.Status.Builder status =
                com.google.rpc.Status.newBuilder()
                                     .setCode(grpc.value())
                                     .setMessage(clip(message))
                                     .addDetails(Any.pack(errorInfo(domain, code, metadata)));
        if (field != null) {
            status.addDetails(Any.pack(BadRequest.newBuilder().addFieldViolations(
                    BadRequest.FieldViolation.newBuilder()
                                             .setField(clip(field))
                                             .setDescription(clip(description))).build()));
        }
        return StatusProto.toStatusRuntimeException(status.build());
    }

    /**
     * UNAVAILABLE (retriable) for a failure of what the service depends on rather than of the request: a store that
     * cannot be written now (naming it and SQLite's reason), a shared engine that cannot serve now (ErrorInfo
     * metadata {@code engine: redis}), or a revocation list that cannot be read; null for any other failure. The one
     * mapping of them all, for gRPC calls and the HTTP edge alike.
     */
    @Nullable
    public static StatusRuntimeException dependencyUnavailable(String domain, Throwable failure) {
        if (failure instanceof StoreUnavailableException e) {
            return unavailable(e.service() + ".sonia.ai", e.getMessage(),
                               Map.of("store", e.store(), "reason", e.reason()), e);
        }
        if (failure instanceof RevocationListUnavailableException e) {
            return unavailable(domain, e.getMessage(), e.shared() ? Map.of("engine", "redis")
                                                                  : Map.of("store", "revoked-sessions"), e);
        }
        if (SharedEngine.cannotServeNow(failure)) {
            return unavailable(domain, "the shared engine (Redis) cannot serve now; try again later",
                               Map.of("engine", "redis"), failure);
        }
        return null;
    }

    private static StatusRuntimeException unavailable(String domain, String message, Map<String, String> metadata,
                                                      Throwable cause) {
        final StatusRuntimeException error = of(domain, ErrorCode.ERROR_CODE_UNAVAILABLE, message, metadata);
        return new StatusRuntimeException(error.getStatus().withCause(cause), error.getTrailers());
    }

    /** NOT_FOUND for a named resource. */
    public static StatusRuntimeException notFound(String domain, String what, String name) {
        return of(domain, ErrorCode.ERROR_CODE_NOT_FOUND, what + " not found: " + name, Map.of("name", name));
    }

    /** The envelope code ("UNAVAILABLE", "APPROVAL_REQUIRED", ...) of a failed call. */
    public static String envelopeCode(Throwable failure) {
        final ErrorInfo info = errorInfo(failure);
        return ErrorMapping.wireName(ErrorMapping.errorCode(io.grpc.Status.fromThrowable(failure).getCode(),
                                                            info == null ? null : info.getReason()));
    }

    /** A value of a failed call's ErrorInfo metadata, or null. */
    @Nullable
    public static String metadata(Throwable failure, String key) {
        final ErrorInfo info = errorInfo(failure);
        return info == null ? null : info.getMetadataMap().get(key);
    }

    @Nullable
    private static ErrorInfo errorInfo(Throwable failure) {
        final com.google.rpc.Status details = StatusProto.fromThrowable(failure);
        if (details == null) {
            return null;
        }
        for (Any any : details.getDetailsList()) {
            if (any.is(ErrorInfo.class)) {
                try {
                    return any.unpack(ErrorInfo.class);
                } catch (InvalidProtocolBufferException e) {
                    return null;
                }
            }
        }
        return null;
    }

    private static ErrorInfo errorInfo(String domain, ErrorCode code, Map<String, String> metadata) {
        return ErrorInfo.newBuilder()
                        .setReason(ErrorMapping.wireName(code))
                        .setDomain(domain)
                        .putAllMetadata(clipped(metadata))
                        .build();
    }

    private static Map<String, String> clipped(Map<String, String> metadata) {
        final Map<String, String> clipped = new java.util.HashMap<>();
        metadata.forEach((key, value) -> clipped.put(key, clip(value)));
        return clipped;
    }

    private Errors() {}
}
