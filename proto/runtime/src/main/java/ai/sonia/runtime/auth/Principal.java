package ai.sonia.runtime.auth;

import static java.util.Objects.requireNonNull;

import com.linecorp.armeria.common.annotation.Nullable;
import com.linecorp.armeria.server.ServiceRequestContext;

import ai.sonia.common.v1.ErrorCode;
import ai.sonia.common.v1.Role;
import ai.sonia.runtime.Errors;
import ai.sonia.runtime.errors.DomainException;
import io.grpc.StatusRuntimeException;
import io.netty.util.AttributeKey;

/**
 * Who is asking, as proven by a credential: a user (by access token or API key) of a tenant with a role,
 * or a Sonia service acting for itself. A service that calls another on behalf of a user forwards that
 * user inside its signed service credential, so the callee sees the user, with {@link #via()} naming the
 * service. Every authenticated request carries one, on its context; the tenant of every data access comes
 * from here, never from a request body.
 *
 * @param kind how the principal was proven
 * @param tenant the tenant it belongs to; empty for a service acting for itself
 * @param subject the user id, API key id, or service name
 * @param role what it may do inside its tenant
 * @param via the service that forwarded it, or empty when it came straight from its credential
 */
public record Principal(Kind kind, String tenant, String subject, Role role, String via) {

    /** How a principal was proven. */
    public enum Kind {
        /** A person, by an access token. */
        USER,
        /** A program, by an API key scoped to a tenant and role. */
        API_KEY,
        /** A Sonia service acting for itself (health probes, maintenance): it may touch every tenant. */
        SERVICE
    }

    static final AttributeKey<Principal> ATTR = AttributeKey.valueOf(Principal.class, "PRINCIPAL");

    public Principal {
        requireNonNull(kind, "kind");
        requireNonNull(tenant, "tenant");
        requireNonNull(subject, "subject");
        requireNonNull(role, "role");
        requireNonNull(via, "via");
    }

    /** A user of a tenant. */
    public static Principal user(String tenant, String user, Role role) {
        return new Principal(Kind.USER, tenant, user, role, "");
    }

    /** A service acting for itself. */
    public static Principal service(String name) {
        return new Principal(Kind.SERVICE, "", name, Role.ROLE_UNSPECIFIED, "");
    }

    /** The principal of the request being served; UNAUTHENTICATED when there is none. */
    public static Principal current() {
        final Principal principal = currentOrNull();
        if (principal == null) {
            throw unauthenticated("no credential");
        }
        return principal;
    }

    /** The principal of the request being served, or null outside a request or before authentication. */
    @Nullable
    public static Principal currentOrNull() {
        final ServiceRequestContext ctx = ServiceRequestContext.currentOrNull();
        return ctx == null ? null : ctx.attr(ATTR);
    }

    /** A Sonia service acting for itself: trusted across tenants. */
    public boolean isService() {
        return kind == Kind.SERVICE;
    }

    /** An administrator of its tenant. */
    public boolean isAdmin() {
        return role == Role.ROLE_ADMIN;
    }

    /** The same principal, forwarded by {@code service}. */
    public Principal via(String service) {
        return new Principal(kind, tenant, subject, role, service);
    }

    /** The name written to ledgers and audit records: {@code tenant/user}, or {@code service:name}. */
    public String audit() {
        return isService() ? "service:" + subject : tenant + '/' + subject;
    }

    /**
     * The tenant a request of this principal touches: its own. A request that names another tenant is
     * PERMISSION_DENIED (an empty name means its own). A service acting for itself must name one.
     */
    public String tenantFor(String requested) {
        if (isService()) {
            if (requested.isEmpty()) {
                throw DomainException.permissionDenied("a service acting for itself must name the tenant");
            }
            return requested;
        }
        if (!requested.isEmpty() && !requested.equals(tenant)) {
            throw DomainException.permissionDenied("tenant " + requested + " is not yours");
        }
        return tenant;
    }

    /** Whether this principal may see and change data of {@code owner}'s tenant and user. */
    public boolean owns(String ownerTenant, String ownerUser) {
        return isService() || tenant.equals(ownerTenant) && (isAdmin() || subject.equals(ownerUser));
    }

    /** PERMISSION_DENIED unless this principal is an administrator (or a service acting for itself). */
    public void requireAdmin(String what) {
        if (!isAdmin() && !isService()) {
            throw DomainException.permissionDenied(what + " needs the admin role");
        }
    }

    /** UNAUTHENTICATED with the envelope's code. */
    public static StatusRuntimeException unauthenticated(String why) {
        return Errors.of("auth", ErrorCode.ERROR_CODE_UNAUTHENTICATED, why, java.util.Map.of());
    }

    /**
     * PERMISSION_DENIED with the envelope's code.
     *
     * @deprecated throw {@link DomainException#permissionDenied(String)}: the service's exception handler maps it.
     */
    @Deprecated
    public static StatusRuntimeException permissionDenied(String why) {
        return Errors.of("auth", ErrorCode.ERROR_CODE_PERMISSION_DENIED, why, java.util.Map.of());
    }
}
