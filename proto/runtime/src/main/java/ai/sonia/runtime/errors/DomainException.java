package ai.sonia.runtime.errors;

import static java.util.Objects.requireNonNull;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

import ai.sonia.common.v1.ErrorCode;

/**
 * The one exception domain code throws when it refuses a request. It knows the contract's error catalogue
 * ({@link ErrorCode}) but nothing of gRPC or HTTP: the runtime's exception handler, which
 * {@code SoniaServer} installs for every service, turns it into a gRPC status with {@code google.rpc.ErrorInfo}
 * (reason = the code's wire name, domain = {@code <service>.sonia.ai}, metadata from {@link #with}) and, for
 * {@link #invalidArgument}, {@code google.rpc.BadRequest}; the REST edge renders that status as the envelope.
 *
 * <p>Make one with a factory and throw it; add ErrorInfo metadata with {@link #with}:
 * <pre>{@code throw DomainException.notFound("session", id).with("state", "ENDED");}</pre>
 */
public final class DomainException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final ErrorCode code;
    private final boolean alreadyExists;
    private final String field;
    private final String fieldDescription;
    private final LinkedHashMap<String, String> metadata;

    private DomainException(ErrorCode code, boolean alreadyExists, String message, String field,
                            String fieldDescription, Map<String, String> metadata) {
        super(requireNonNull(message, "message"));
        if (code == ErrorCode.ERROR_CODE_UNSPECIFIED || code == ErrorCode.UNRECOGNIZED) {
            throw new IllegalArgumentException("not an error code: " + code);
        }
        this.code = requireNonNull(code, "code");
        this.alreadyExists = alreadyExists;
        this.field = field;
        this.fieldDescription = fieldDescription;
        this.metadata = new LinkedHashMap<>(metadata);
    }

    /** No {@code what} is named {@code name}: NOT_FOUND, with ErrorInfo metadata {@code name}. */
    public static DomainException notFound(String what, String name) {
        return new DomainException(ErrorCode.ERROR_CODE_NOT_FOUND, false, what + " not found: " + name, "", "",
                                   Map.of("name", name));
    }

    /**
     * A {@code what} named {@code name} exists already: gRPC ALREADY_EXISTS, envelope CONFLICT (HTTP 409), with
     * ErrorInfo metadata {@code name}.
     */
    public static DomainException alreadyExists(String what, String name) {
        return new DomainException(ErrorCode.ERROR_CODE_CONFLICT, true, what + " already exists: " + name, "", "",
                                   Map.of("name", name));
    }

    /** The resource's state does not allow the operation: gRPC FAILED_PRECONDITION, envelope CONFLICT (HTTP 409). */
    public static DomainException conflict(String message) {
        return of(ErrorCode.ERROR_CODE_CONFLICT, message, Map.of());
    }

    /**
     * A request field is wrong: INVALID_ARGUMENT with a {@code BadRequest} field violation and ErrorInfo
     * metadata {@code field}. The message reads {@code "<field>: <description>"}.
     */
    public static DomainException invalidArgument(String field, String description) {
        requireNonNull(field, "field");
        requireNonNull(description, "description");
        return new DomainException(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, false, field + ": " + description, field,
                                   description, Map.of("field", field));
    }

    /** The principal may not do this: PERMISSION_DENIED. */
    public static DomainException permissionDenied(String message) {
        return of(ErrorCode.ERROR_CODE_PERMISSION_DENIED, message, Map.of());
    }

    /**
     * Any code of the catalogue, raised with its canonical gRPC code (see the comments of {@link ErrorCode}),
     * with this ErrorInfo metadata.
     */
    public static DomainException of(ErrorCode code, String message, Map<String, String> metadata) {
        return new DomainException(code, false, message, "", "", metadata);
    }

    /** Adds (or replaces) an ErrorInfo metadata entry; returns this exception, to throw. */
    public DomainException with(String key, String value) {
        metadata.put(requireNonNull(key, "key"), requireNonNull(value, "value"));
        return this;
    }

    /** The catalogue code: the ErrorInfo reason and the envelope's {@code error.code}. */
    public ErrorCode code() {
        return code;
    }

    /** True when made by {@link #alreadyExists}: the code is CONFLICT, but gRPC sees ALREADY_EXISTS. */
    public boolean isAlreadyExists() {
        return alreadyExists;
    }

    /** The offending request field of {@link #invalidArgument}, or empty. */
    public String field() {
        return field;
    }

    /** The field violation's description of {@link #invalidArgument}, or empty. */
    public String fieldDescription() {
        return fieldDescription;
    }

    /** The ErrorInfo metadata, in the order added. */
    public Map<String, String> metadata() {
        return Collections.unmodifiableMap(metadata);
    }
}
