package ai.sonia.gateway.domain;

import java.util.Map;

import ai.sonia.common.v1.ErrorCode;
import ai.sonia.runtime.Errors;
import ai.sonia.runtime.auth.Principal;
import io.grpc.StatusRuntimeException;

/** The errors of the accounts API, each with its envelope code. */
public final class AccountErrors {

    static final String DOMAIN = "gateway.sonia.ai";

    static StatusRuntimeException badCredentials() {
        return Principal.unauthenticated("wrong username or password");
    }

    static StatusRuntimeException conflict(String why) {
        return Errors.of(DOMAIN, ErrorCode.ERROR_CODE_CONFLICT, why, Map.of());
    }

    /** A {@code what} named {@code name} exists already. */
    public static StatusRuntimeException alreadyExists(String what, String name) {
        return conflict(what + " " + name + " exists already");
    }

    static StatusRuntimeException notFound(String what, String id) {
        return Errors.notFound(DOMAIN, what, id);
    }

    static StatusRuntimeException rateLimited(String why, long retryAfterSeconds) {
        return Errors.of(DOMAIN, ErrorCode.ERROR_CODE_RATE_LIMITED, why,
                         Map.of("retry_after_seconds", String.valueOf(retryAfterSeconds)));
    }

    private AccountErrors() {}
}
