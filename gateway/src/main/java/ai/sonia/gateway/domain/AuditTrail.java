package ai.sonia.gateway.domain;

import java.util.List;
import java.util.Optional;

import com.google.protobuf.util.Timestamps;

import ai.sonia.evaos.v1.ApprovalState;
import ai.sonia.evaos.v1.Decision;
import ai.sonia.evaos.v1.ListDecisionsResponse;
import ai.sonia.gateway.v1.AuditApprovalDecision;
import ai.sonia.gateway.v1.AuditEvent;
import ai.sonia.gateway.v1.AuditEventKind;
import ai.sonia.gateway.v1.ListAuditEventsResponse;
import ai.sonia.runtime.auth.Principal;
import ai.sonia.runtime.errors.DomainException;
import ai.sonia.runtime.paging.PageTokens;

/**
 * The security events of each tenant (seed 004): who signed in from where (or failed to), refreshed, reused a
 * refresh token, signed out, made or deleted a key, and which users were registered, changed or deleted. Kept
 * in an append-only {@link AuditLog}; read by the tenant's admins, newest first, merged with the
 * approval decisions of EVA-OS's own append-only record. Never holds a secret.
 */
public final class AuditTrail {

    private static final int MAX_TEXT = 200;
    private static final int MAX_DECISIONS_PAGE = 1000;
    // In a page token: no approval decisions are left below the cursor.
    private static final String END = "-";

    private final Accounts accounts;
    private final AuditLog log;

    AuditTrail(Accounts accounts, AuditLog log) {
        this.accounts = accounts;
        this.log = log;
    }

    /** Records an event of {@code tenant} about user {@code userId}, by the principal of the current request. */
    void record(AuditEventKind kind, boolean success, String tenant, String userId, String username, String detail) {
        final Principal caller = Principal.currentOrNull();
        log.append(new AuditLog.AuditRow(0, tenant, accounts.clock.millis(), kind.getNumber(), success, actor(caller),
                                         userId, clip(username), accounts.request.clientAddress(), clip(detail)));
    }

    /** Where the approval decisions of a tenant come from: EVA-OS's {@code ListDecisions}. */
    public interface Decisions {
        /**
         * A page of {@code tenant}'s decisions below {@code pageToken} ("" for the newest), newest first; empty
         * when EVA-OS cannot be asked now (unavailable or too slow).
         */
        Optional<ListDecisionsResponse> page(String tenant, String pageToken, int pageSize);
    }

    /**
     * A page of the caller's tenant's events, newest first; admins only. The gateway's own events and the
     * tenant's approval {@code decisions} are merged by time: the page token holds a cursor into each, so a
     * reader walking the pages sees every event of both once, whatever is added meanwhile (newer events wait
     * for the next walk).
     */
    public ListAuditEventsResponse list(Principal caller, int pageSize, String pageToken, Decisions decisions) {
        Access.requireAdminPerson(caller, "reading the audit");
        final int size = Accounts.pageSize(pageSize);
        final String query = "ListAuditEvents tenant=" + caller.tenant();
        final List<String> cursor = PageTokens.after(pageToken, query).orElse(List.of(String.valueOf(Long.MAX_VALUE), ""));
        final long before;
        try {
            before = Long.parseLong(cursor.get(0));
        } catch (NumberFormatException | IndexOutOfBoundsException e) {
            throw DomainException.invalidArgument("page_token", "not a page token of this list");
        }
        final String decisionsBelow = cursor.size() > 1 ? cursor.get(1) : ""; // "" for the newest, END when none left
        final List<AuditLog.AuditRow> rows = log.page(caller.tenant(), before, size + 1);
        final ListAuditEventsResponse.Builder page = ListAuditEventsResponse.newBuilder();
        ListDecisionsResponse decided = ListDecisionsResponse.getDefaultInstance();
        if (!END.equals(decisionsBelow)) {
            final Optional<ListDecisionsResponse> answer =
                    decisions.page(caller.tenant(), decisionsBelow, Math.min(size + 1, MAX_DECISIONS_PAGE));
            if (answer.isPresent()) {
                decided = answer.get();
            } else {
                page.addDegraded("evaos"); // the cursor stays where it was: later pages bring them
            }
        }
        final List<Decision> ds = decided.getDecisionsList();
        int i = 0;
        int j = 0;
        while (page.getEventsCount() < size && (i < rows.size() || j < ds.size())) {
            final boolean own = j >= ds.size()
                                || i < rows.size() && rows.get(i).timeMs() >= Timestamps.toMillis(ds.get(j).getDecideTime());
            page.addEvents(own ? event(rows.get(i++)) : event(ds.get(j++)));
        }
        final boolean moreDecisions = j < ds.size() || !decided.getNextPageToken().isEmpty();
        if (i < rows.size() || moreDecisions) {
            final long nextBefore = i > 0 ? rows.get(i - 1).seq() : before;
            final String nextDecisions = page.getDegradedCount() > 0 ? decisionsBelow
                                         : !moreDecisions ? END : j > 0 ? ds.get(j - 1).getDecisionId()
                                                                        : decisionsBelow;
            page.setNextPageToken(PageTokens.next(query, List.of(String.valueOf(nextBefore), nextDecisions)));
        }
        return page.build();
    }

    private static AuditEvent event(Decision d) {
        final String requester = d.getRequestedBy();
        return AuditEvent.newBuilder()
                         .setEventId("decision-" + d.getDecisionId())
                         .setTime(d.getDecideTime())
                         .setKind(AuditEventKind.AUDIT_EVENT_KIND_APPROVAL_DECISION)
                         .setSuccess(d.getState() == ApprovalState.APPROVAL_STATE_APPROVED)
                         .setActor(d.getDecidedBy())
                         .setUserId(requester.substring(requester.indexOf('/') + 1))
                         .setDetail(clip(d.getToolName() + " (" + d.getRisk().name() + ") " + d.getState().name()
                                         + (d.getReason().isEmpty() ? "" : ": " + d.getReason())))
                         .setApproval(AuditApprovalDecision.newBuilder()
                                                           .setApprovalId(d.getApprovalId())
                                                           .setRequestedBy(requester)
                                                           .setToolName(d.getToolName())
                                                           .setRisk(d.getRisk())
                                                           .setState(d.getState())
                                                           .setGrantScope(d.getGrantScope())
                                                           .setReason(d.getReason()))
                         .build();
    }

    private static AuditEvent event(AuditLog.AuditRow row) {
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

    private static String actor(Principal caller) {
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
