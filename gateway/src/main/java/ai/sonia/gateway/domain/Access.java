package ai.sonia.gateway.domain;

import ai.sonia.runtime.auth.Principal;

/** Who may manage accounts: people, by their own login. */
final class Access {

    /**
     * PERMISSION_DENIED unless the principal is a user: API keys and services do not manage users or keys
     * (a leaked key cannot mint more keys or change passwords).
     */
    static void requirePerson(Principal caller) {
        if (caller.kind() != Principal.Kind.USER) {
            throw Principal.permissionDenied("accounts and keys are managed by a user's login, not by "
                                             + caller.kind().name().toLowerCase(java.util.Locale.ROOT));
        }
    }

    /** PERMISSION_DENIED unless the principal is an admin user. */
    static void requireAdminPerson(Principal caller, String what) {
        requirePerson(caller);
        caller.requireAdmin(what);
    }

    private Access() {}
}
