package ai.sonia.gateway.domain;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import ai.sonia.common.v1.Role;
import ai.sonia.gateway.v1.AuditEventKind;
import ai.sonia.gateway.v1.ListUsersResponse;
import ai.sonia.gateway.v1.UpdateUserRequest;
import ai.sonia.gateway.v1.User;
import ai.sonia.runtime.auth.Principal;
import ai.sonia.runtime.errors.DomainException;
import ai.sonia.runtime.paging.PageTokens;

/**
 * The users of a tenant: each user manages its own profile and password; an admin lists, changes and
 * deletes the users of its own tenant only. A user of another tenant is NOT_FOUND, never revealed; the
 * last enabled admin of a tenant can be neither demoted, disabled nor deleted (CONFLICT).
 */
public final class UserDirectory {

    private static final List<String> UPDATABLE = List.of("display_name", "role", "disabled");

    private final Accounts accounts;

    UserDirectory(Accounts accounts) {
        this.accounts = accounts;
    }

    public User mine(Principal caller) {
        return AccountProtos.user(own(caller));
    }

    public User updateMine(Principal caller, String displayName) {
        final AccountStore.UserRow user = own(caller);
        accounts.store.setDisplayName(user.id(), validDisplayName(displayName));
        return AccountProtos.user(accounts.store.user(user.id()).orElseThrow());
    }

    /** Changes the caller's password and revokes its other login sessions ({@code currentSession} stays). */
    public void changePassword(Principal caller, String currentSession, String current, String next) {
        final AccountStore.UserRow user = own(caller);
        if (!accounts.passwords.verify(current, user.passwordHash())) {
            accounts.audit.record(AuditEventKind.AUDIT_EVENT_KIND_PASSWORD_CHANGE, false, user.tenant(), user.id(),
                                  user.username(), "current password wrong");
            throw Access.unauthenticated("current_password is wrong");
        }
        Passwords.validate("new_password", next);
        accounts.store.setPasswordHash(user.id(), accounts.passwords.hash(next));
        accounts.audit.record(AuditEventKind.AUDIT_EVENT_KIND_PASSWORD_CHANGE, true, user.tenant(), user.id(),
                              user.username(), "");
        revokeSessions(user.id(), currentSession);
    }

    public ListUsersResponse list(Principal caller, int pageSize, String pageToken) {
        Access.requireAdminPerson(caller, "listing users");
        final int size = Accounts.pageSize(pageSize);
        final String query = "ListUsers tenant=" + caller.tenant();
        final String after = PageTokens.after(pageToken, query).map(key -> key.get(0)).orElse("");
        final List<AccountStore.UserRow> rows = accounts.store.users(caller.tenant(), after, size + 1);
        final ListUsersResponse.Builder page = ListUsersResponse.newBuilder();
        rows.stream().limit(size).forEach(u -> page.addUsers(AccountProtos.user(u)));
        if (rows.size() > size) {
            page.setNextPageToken(PageTokens.next(query, List.of(rows.get(size - 1).username())));
        }
        return page.build();
    }

    public User get(Principal caller, String userId) {
        Access.requireAdminPerson(caller, "reading users");
        return AccountProtos.user(ofTenant(caller, userId));
    }

    public User update(Principal caller, UpdateUserRequest request) {
        Access.requireAdminPerson(caller, "changing users");
        final Set<String> paths = changed(request);
        final AccountStore.UserRow user = ofTenant(caller, request.getUserId());
        final Role role = paths.contains("role") ? request.getRole() : user.role();
        if (role != Role.ROLE_ADMIN && role != Role.ROLE_USER) {
            throw DomainException.invalidArgument("role", "ROLE_ADMIN or ROLE_USER");
        }
        if (paths.contains("display_name")) {
            accounts.store.setDisplayName(user.id(), validDisplayName(request.getDisplayName()));
        }
        final boolean disabled = paths.contains("disabled") ? request.getDisabled() : user.disabled();
        if (!accounts.store.setRoleAndDisabled(user, role, disabled)) {
            throw DomainException.conflict("the tenant's last admin cannot be demoted or disabled");
        }
        if (disabled != user.disabled() || role != user.role()) {
            // Access tokens carry the role: end the sessions and every token derived from the user or its
            // keys, at every service, so the change applies now, not at expiry.
            revokeSessions(user.id(), "");
            accounts.revocations.userChanged(user, disabled ? null : role);
        }
        if (role != user.role()) {
            accounts.audit.record(AuditEventKind.AUDIT_EVENT_KIND_ROLE_CHANGE, true, user.tenant(), user.id(),
                                  user.username(), user.role() + " -> " + role);
        }
        if (disabled != user.disabled()) {
            accounts.audit.record(disabled ? AuditEventKind.AUDIT_EVENT_KIND_USER_DISABLE
                                           : AuditEventKind.AUDIT_EVENT_KIND_USER_ENABLE,
                                  true, user.tenant(), user.id(), user.username(), "");
        }
        return AccountProtos.user(accounts.store.user(user.id()).orElseThrow());
    }

    public void delete(Principal caller, String userId) {
        Access.requireAdminPerson(caller, "deleting users");
        final AccountStore.UserRow user = ofTenant(caller, userId);
        if (!accounts.store.deleteUser(user, accounts.clock.millis())) {
            throw DomainException.conflict("the tenant's last admin cannot be deleted");
        }
        revokeSessions(user.id(), "");
        accounts.revocations.userChanged(user, null);
        accounts.audit.record(AuditEventKind.AUDIT_EVENT_KIND_USER_DELETE, true, user.tenant(), user.id(),
                              user.username(), "");
    }

    private void revokeSessions(String userId, String keep) {
        accounts.store.revokeSessionsOf(userId, keep, accounts.clock.millis())
                      .forEach(accounts.revocations::revokeSession);
    }

    private AccountStore.UserRow own(Principal caller) {
        Access.requirePerson(caller);
        return accounts.store.user(caller.tenant(), caller.subject())
                             .orElseThrow(() -> DomainException.notFound("user", caller.subject()));
    }

    private AccountStore.UserRow ofTenant(Principal caller, String userId) {
        if (userId.isEmpty()) {
            throw DomainException.invalidArgument("user_id", "must not be empty");
        }
        return accounts.store.user(caller.tenant(), userId)
                             .orElseThrow(() -> DomainException.notFound("user", userId));
    }

    /** The fields an update changes: its update_mask's paths, or without a mask the fields it sets. */
    private static Set<String> changed(UpdateUserRequest request) {
        if (request.hasUpdateMask()) {
            final Set<String> paths = new HashSet<>(request.getUpdateMask().getPathsList());
            for (String path : paths) {
                if (!UPDATABLE.contains(path)) {
                    throw DomainException.invalidArgument("update_mask", path + " (expected: one of " + UPDATABLE + ')');
                }
            }
            return paths;
        }
        final Set<String> paths = new HashSet<>();
        if (request.hasDisplayName()) {
            paths.add("display_name");
        }
        if (request.hasRole()) {
            paths.add("role");
        }
        if (request.hasDisabled()) {
            paths.add("disabled");
        }
        return paths;
    }

    private static String validDisplayName(String displayName) {
        if (displayName.isBlank() || displayName.length() > 200) {
            throw DomainException.invalidArgument("display_name", "1 to 200 characters");
        }
        return displayName.strip();
    }
}
