package ai.sonia.gateway.domain;

import java.util.Map;

import ai.sonia.common.v1.ErrorCode;
import ai.sonia.runtime.auth.Principal;
import ai.sonia.runtime.errors.DomainException;

/** Who may manage accounts: people, by their own login. */
final class Access {

    /**
     * PERMISSION_DENIED unless the principal is a user: API keys and services do not manage users or keys
     * (a leaked key cannot mint more keys or change passwords).
     */
    static void requirePerson(Principal caller) {
        if (caller.kind() != Principal.Kind.USER) {
            throw DomainException.permissionDenied("accounts and keys are managed by a user's login, not by "
                                             + caller.kind().name().toLowerCase(java.util.Locale.ROOT));
        }
    }

    /** PERMISSION_DENIED unless the principal is an admin user. */
    static void requireAdminPerson(Principal caller, String what) {
        requirePerson(caller);
        caller.requireAdmin(what);
    }

    /** UNAUTHENTICATED: the credential presented is wrong, unknown or no longer valid. */
    static DomainException unauthenticated(String why) {
        return DomainException.of(ErrorCode.ERROR_CODE_UNAUTHENTICATED, why, Map.of());
    }

    private Access() {}
}
