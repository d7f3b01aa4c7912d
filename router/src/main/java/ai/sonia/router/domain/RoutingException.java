package ai.sonia.router.domain;

import java.util.Map;

import ai.sonia.common.v1.ErrorCode;

/** A request the router cannot serve, with the envelope code and the details for ErrorInfo. */
public final class RoutingException extends RuntimeException {

    private final ErrorCode code;
    private final Map<String, String> metadata;

    public RoutingException(ErrorCode code, String message, Map<String, String> metadata) {
        super(message, null, false, false);
        this.code = code;
        this.metadata = Map.copyOf(metadata);
    }

    public ErrorCode code() {
        return code;
    }

    public Map<String, String> metadata() {
        return metadata;
    }
}
