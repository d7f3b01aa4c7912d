package ai.sonia.gateway.accounts;

import java.util.List;

import com.google.protobuf.util.Timestamps;

import com.linecorp.armeria.common.annotation.Nullable;
import com.linecorp.armeria.server.ServiceRequestContext;

import ai.sonia.gateway.v1.AuditEvent;
import ai.sonia.gateway.v1.AuditEventKind;
import ai.sonia.gateway.v1.ListAuditEventsResponse;
import ai.sonia.runtime.auth.Principal;

/**
 * The security events of each tenant (seed 004): who signed in from where (or failed to), refreshed, reused a
 * refresh token, signed out, made or deleted a key, and which users were registered, changed or deleted. Kept
 * in the accounts store's append-only table; read by the tenant's admins, newest first. Never holds a secret.
 */
public final class AuditLog {

    private static final int MAX_TEXT = 200;

    private final Accounts accounts;

    AuditLog(Accounts accounts) {
        this.accounts = accounts;
    }

    /** Records an event of {@code tenant} about user {@code userId}, by the principal of the current request. */
    void record(AuditEventKind kind, boolean success, String tenant, String userId, String username, String detail) {
        final Principal caller = Principal.currentOrNull();
        final ServiceRequestContext ctx = ServiceRequestContext.currentOrNull();
        accounts.store.insertAudit(new AccountStore.AuditRow(
                0, tenant, accounts.clock.millis(), kind.getNumber(), success, actor(caller), userId,
                clip(username), ctx == null ? "" : ctx.clientAddress().getHostAddress(), clip(detail)));
    }

    /** A page of the caller's tenant's events, newest first; admins only. */
    public ListAuditEventsResponse list(Principal caller, int pageSize, String pageToken) {
        Access.requireAdminPerson(caller, "reading the audit");
        final int size = Pages.size(pageSize);
        final long before;
        try {
            before = pageToken.isEmpty() ? Long.MAX_VALUE : Long.parseLong(Pages.cursor(pageToken));
        } catch (NumberFormatException e) {
            throw Pages.invalidToken();
        }
        final List<AccountStore.AuditRow> rows = accounts.store.audit(caller.tenant(), before, size + 1);
        final ListAuditEventsResponse.Builder page = ListAuditEventsResponse.newBuilder();
        rows.stream().limit(size).forEach(row -> page.addEvents(event(row)));
        if (rows.size() > size) {
            page.setNextPageToken(Pages.token(String.valueOf(rows.get(size - 1).seq())));
        }
        return page.build();
    }

    private static AuditEvent event(AccountStore.AuditRow row) {
        return AuditEvent.newBuilder()
                         .setEventId(String.valueOf(row.seq()))
                         .setTime(Timestamps.fromMillis(row.timeMs()))
                         .setKind(AuditEventKind.forNumber(row.kind()) == null ? AuditEventKind.AUDIT_EVENT_KIND_UNSPECIFIED
                                                                               : AuditEventKind.forNumber(row.kind()))
                         .setSuccess(row.success())
                         .setActor(row.actor())
                         .setUserId(row.userId())
                         .setUsername(row.username())
                         .setAddress(row.address())
                         .setDetail(row.detail())
                         .build();
    }

    private static String actor(@Nullable Principal caller) {
        if (caller == null) {
            return "";
        }
        return switch (caller.kind()) {
            case USER -> caller.tenant() + '/' + caller.subject();
            case API_KEY -> "key:" + caller.subject();
            case SERVICE -> "service:" + caller.subject();
        };
    }

    private static String clip(String text) {
        return text.length() <= MAX_TEXT ? text : text.substring(0, MAX_TEXT) + '…';
    }
}
