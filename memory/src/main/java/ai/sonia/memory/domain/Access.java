package ai.sonia.memory.domain;

import ai.sonia.common.v1.Scope;
import ai.sonia.memory.v1.Memory;
import ai.sonia.runtime.auth.Principal;
import ai.sonia.runtime.errors.DomainException;

/**
 * What one caller may see and change in the ledger, decided from its principal alone:
 * <ul>
 *   <li>the tenant is the principal's (naming another is PERMISSION_DENIED); a service acting for itself
 *       names any;</li>
 *   <li>an empty user means the caller's own, for reads and writes alike, so a tool that never names the
 *       user neither fails for plain users nor publishes an admin's notes to the tenant; tenant-wide
 *       memories are written with {@code tenant_wide}, and every user's are read with {@code all_users},
 *       both by admins only;</li>
 *   <li>a plain user reads their own and the tenant-wide memories and changes only their own; an admin
 *       reads and changes everything in the tenant;</li>
 *   <li>a memory the caller may not see is NOT_FOUND, exactly as a missing one.</li>
 * </ul>
 */
public final class Access {

    private final Principal principal;
    private final Actor actor;

    private Access(Principal principal, String correlationId) {
        this.principal = principal;
        actor = new Actor(principal.audit(), correlationId);
    }

    /** The access of {@code principal}, whose writes are audited under {@code correlationId}. */
    public static Access of(Principal principal, String correlationId) {
        return new Access(principal, correlationId);
    }

    /** Who the audit log says did a write. */
    Actor actor() {
        return actor;
    }

    /** The scope a store writes to. */
    Scope storeScope(Scope requested, boolean tenantWide) {
        final String tenant = principal.tenantFor(requested.getTenant());
        final String user;
        if (tenantWide) {
            if (!requested.getUser().isEmpty()) {
                throw DomainException.invalidArgument("memory.scope.user", "must be empty with tenant_wide");
            }
            principal.requireAdmin("storing a tenant-wide memory");
            user = "";
        } else {
            user = user(requested.getUser());
        }
        return requested.toBuilder().setTenant(tenant).setUser(user).build();
    }

    /** The scope a search or list reads: its user's memories plus the tenant-wide ones, or all users'. */
    Scope readScope(Scope requested, boolean allUsers) {
        final String tenant = principal.tenantFor(requested.getTenant());
        final String user;
        if (allUsers) {
            if (!requested.getUser().isEmpty()) {
                throw DomainException.invalidArgument("scope.user", "must be empty with all_users");
            }
            principal.requireAdmin("reading every user's memories");
            user = "";
        } else {
            user = user(requested.getUser());
        }
        return requested.toBuilder().setTenant(tenant).setUser(user).build();
    }

    /**
     * The user a request touches: the caller's own when empty; another only for an admin. A service acting
     * for itself has no user of its own, so for it empty stays empty (the whole tenant), as before auth.
     */
    private String user(String requested) {
        if (principal.isService()) {
            return requested;
        }
        if (requested.isEmpty() || requested.equals(principal.subject())) {
            return principal.subject();
        }
        if (!principal.isAdmin()) {
            throw DomainException.permissionDenied("user " + requested + " is not you");
        }
        return requested;
    }

    /** NOT_FOUND, as if it did not exist, unless the caller may see {@code memory}. */
    void checkReadable(Memory memory) {
        if (!readable(memory)) {
            throw DomainException.notFound("memory", memory.getName());
        }
    }

    /** As {@link #checkReadable}; then PERMISSION_DENIED unless the caller may also change it. */
    void checkWritable(Memory memory) {
        checkReadable(memory);
        if (!principal.owns(memory.getScope().getTenant(), memory.getScope().getUser())) {
            throw DomainException.permissionDenied("changing a tenant-wide memory needs the admin role");
        }
    }

    private boolean readable(Memory memory) {
        return principal.owns(memory.getScope().getTenant(), memory.getScope().getUser())
               || principal.tenant().equals(memory.getScope().getTenant()) && memory.getScope().getUser().isEmpty();
    }

    /** The part of the statistics and the audit log the caller sees. */
    LedgerView view(String requestedTenant) {
        if (principal.isService()) {
            return new LedgerView(requestedTenant, "", "");
        }
        final String tenant = principal.tenantFor(requestedTenant);
        return principal.isAdmin() ? new LedgerView(tenant, "", "")
                                   : new LedgerView(tenant, principal.subject(), principal.audit());
    }

    /** The whole database file holds every tenant: only a service acting for itself may copy or replace it. */
    void requireWholeLedger(String what) {
        if (!principal.isService()) {
            throw DomainException.permissionDenied(what + " covers every tenant: only a Sonia service may do it");
        }
    }

    /** Whether the caller sees figures of the whole file (every tenant). */
    boolean seesWholeFile() {
        return principal.isService();
    }
}
