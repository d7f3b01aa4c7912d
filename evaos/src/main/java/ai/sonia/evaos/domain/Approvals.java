package ai.sonia.evaos.domain;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;

import javax.annotation.Nullable;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.util.Timestamps;

import ai.sonia.evaos.v1.Approval;
import ai.sonia.evaos.v1.ApprovalChange;
import ai.sonia.evaos.v1.ApprovalState;
import ai.sonia.evaos.v1.AuthorizeActionResponse;
import ai.sonia.evaos.v1.Decision;
import ai.sonia.evaos.v1.GrantScope;
import ai.sonia.evaos.v1.Verdict;
import ai.sonia.runtime.auth.Principal;
import ai.sonia.runtime.errors.DomainException;

/**
 * Decisions with memory. The classifier decides first (LOW runs, CRITICAL is denied, whatever any grant
 * says; while the tenant is in {@link Training} mode, everything above LOW is refused with TRAINING_LOCKED,
 * grants or not); for MEDIUM and HIGH, an approval bound to the action's hash is looked up: a live refusal
 * denies without asking again, a live grant (ONCE unused, SESSION of this session, PATTERN matching the
 * canonical arguments) allows, a pending one is returned as is, and otherwise a new one is created.
 *
 * <p>Everything is the requester's: the hash includes the tenant and every lookup names the tenant, and
 * every grant lookup the requester (the user or API key id of the credential), so another tenant's or
 * another user's approvals never allow an action, and a ONCE grant is used up only by its requester. A plain
 * user sees only their own approvals (another user's is NOT_FOUND); an admin sees and decides every one of
 * its tenant. A plain user approves their own only up to the risk the tenant's {@link ApprovalPolicy}
 * allows (by default none: an admin decides), and may always refuse their own. A service acting for itself
 * may read every tenant's approvals but neither asks nor decides: actions and decisions are people's.
 * Every decision is kept on its approval, appended to the store's {@code decisions} table (who, when, what
 * state and scope, for which action, why) and logged without its arguments.
 */
public final class Approvals {

    /** How long things live. */
    public record Ttls(Duration pending, Duration grantDefault, Duration refusalDefault, Duration max) {}

    /** One action to decide on; {@code requestId}, when not empty, makes a retry get the first answer. */
    public record Action(String tool, Struct arguments, String workingDirectory, String sessionId,
                         boolean execute, String approvalId, String requestId) {}

    /** How long the answer to a request id is remembered. */
    static final Duration REQUEST_MEMORY = Duration.ofHours(24);

    private static final Logger logger = LoggerFactory.getLogger(Approvals.class);

    private final RiskClassifier classifier;
    private final ApprovalStore store;
    private final ApprovalEvents events;
    private final Ttls ttls;
    private final ApprovalPolicy policy;
    private final Training training;
    private final Clock clock;

    public Approvals(RiskClassifier classifier, ApprovalStore store, ApprovalEvents events, Ttls ttls,
                     ApprovalPolicy policy, Training training, Clock clock) {
        this.classifier = classifier;
        this.training = training;
        this.policy = policy;
        this.store = store;
        this.events = events;
        this.ttls = ttls;
        this.clock = clock;
        // Replicas sharing the store: their changes reach this replica's watchers too.
        store.followOtherReplicas(events::publishFromOtherReplica, events::otherReplicasLost);
    }

    /**
     * Decides on an action of {@code principal}; see the class comment. An action with a request id that this
     * principal sent in the last 24 hours gets the first answer again, decided nothing anew.
     */
    public synchronized AuthorizeActionResponse authorize(Principal principal, Action action) {
        if (action.requestId().isEmpty() || principal.isService()) {
            return decideAction(principal, action);
        }
        final long now = clock.millis();
        final Optional<byte[]> first = store.response(principal.tenant(), principal.subject(), action.requestId(),
                                                      now - REQUEST_MEMORY.toMillis());
        if (first.isPresent()) {
            try {
                return AuthorizeActionResponse.parseFrom(first.get());
            } catch (InvalidProtocolBufferException e) {
                throw new IllegalStateException("corrupt response of request " + action.requestId(), e);
            }
        }
        final AuthorizeActionResponse response = decideAction(principal, action);
        store.rememberResponse(principal.tenant(), principal.subject(), action.requestId(), response.toByteArray(),
                               now, now - REQUEST_MEMORY.toMillis());
        return response;
    }

    private AuthorizeActionResponse decideAction(Principal principal, Action action) {
        if (principal.isService()) {
            throw DomainException.permissionDenied("a service acting for itself has no tenant to act in");
        }
        if (principal.subject().isEmpty()) {
            throw DomainException.permissionDenied("a credential without a subject cannot ask for anything");
        }
        final String tenant = principal.tenant();
        final String requester = principal.subject();
        final Classification c = classifier.classify(action.tool(), action.arguments(), action.workingDirectory());
        // A tenant in training mode runs only LOW actions: the rest is refused before any approval exists.
        training.check(principal, action.tool(), c.risk());
        final String hash = CanonicalJson.actionHash(tenant, action.tool(), action.arguments(),
                                                     action.workingDirectory());
        final AuthorizeActionResponse.Builder response = AuthorizeActionResponse.newBuilder()
                .setRisk(c.risk()).setRule(c.rule()).setActionHash(hash);
        if (c.verdict() != Verdict.VERDICT_REQUIRE_APPROVAL) {
            return response.setVerdict(c.verdict()).setReason(c.reason()).build();
        }
        expireDue();
        final long now = clock.millis();
        if (!action.approvalId().isEmpty()) {
            // Another tenant's or user's id is not found here: the action is decided as if none was presented.
            final Optional<Approval> presented = store.get(tenant, requester, action.approvalId());
            if (presented.isPresent() && !covers(presented.get(), action, hash)) {
                return response.setVerdict(Verdict.VERDICT_DENY).setApproval(presented.get())
                               .setReason("approval " + action.approvalId()
                                          + " was given for a different action; this one needs its own").build();
            }
        }
        final List<Approval> same = store.byHash(tenant, requester, hash);
        for (Approval a : same) {
            if (a.getState() == ApprovalState.APPROVAL_STATE_DENIED
                && Timestamps.toMillis(a.getExpireTime()) > now) {
                return response.setVerdict(Verdict.VERDICT_DENY).setApproval(a)
                               .setReason("refused before by " + a.getDecidedBy() + ": the refusal is remembered")
                               .build();
            }
        }
        final Optional<Approval> grant = findGrant(tenant, requester, same, action);
        if (grant.isPresent()) {
            final Approval g = grant.get();
            if (action.execute()) {
                if (g.getGrantScope() == GrantScope.GRANT_SCOPE_ONCE && !store.consume(g.getApprovalId())) {
                    return decideAction(principal, action);
                }
                if (g.getGrantScope() != GrantScope.GRANT_SCOPE_ONCE) {
                    store.countUse(g.getApprovalId());
                }
            }
            return response.setVerdict(Verdict.VERDICT_ALLOW)
                           .setApproval(store.get(tenant, requester, g.getApprovalId()).orElse(g))
                           .setReason(c.reason() + "; allowed by the " + scopeName(g.getGrantScope())
                                      + " grant " + g.getApprovalId())
                           .build();
        }
        for (Approval a : same) {
            if (a.getState() == ApprovalState.APPROVAL_STATE_PENDING && a.getSessionId().equals(action.sessionId())) {
                return response.setVerdict(Verdict.VERDICT_REQUIRE_APPROVAL).setApproval(a)
                               .setReason(c.reason() + "; waiting for approval " + a.getApprovalId()).build();
            }
        }
        final Approval created = Approval.newBuilder()
                .setApprovalId(UUID.randomUUID().toString())
                .setState(ApprovalState.APPROVAL_STATE_PENDING)
                .setToolName(action.tool())
                .setArguments(action.arguments())
                .setWorkingDirectory(action.workingDirectory())
                .setActionHash(hash)
                .setRisk(c.risk())
                .setRule(c.rule())
                .setSessionId(action.sessionId())
                .setRequestedBy(principal.audit())
                .setTenant(tenant)
                .setRequester(requester)
                .setCreateTime(Timestamps.fromMillis(now))
                .setExpireTime(Timestamps.fromMillis(now + ttls.pending().toMillis()))
                .build();
        if (!store.insert(created)) {
            // Another replica made the same request's approval a moment ago: answer with that one.
            return decideAction(principal, action);
        }
        events.publish(created, ApprovalChange.APPROVAL_CHANGE_CREATED);
        return response.setVerdict(Verdict.VERDICT_REQUIRE_APPROVAL).setApproval(created)
                       .setReason(c.reason() + "; waiting for approval " + created.getApprovalId()).build();
    }

    /** Approves or denies a pending approval, as {@code principal}; see the class comment for who may. */
    public Approval decide(Principal principal, String id, boolean approve, GrantScope scope, String pattern,
                           long ttlSeconds, String reason) {
        if (principal.isService()) {
            throw DomainException.permissionDenied(
                    "approvals are decided by a person, not by a service acting for itself");
        }
        if (id.isEmpty()) {
            throw DomainException.invalidArgument("approval_id", "is required");
        }
        if (ttlSeconds < 0 || ttlSeconds > ttls.max().toSeconds()) {
            throw DomainException.invalidArgument("ttl_seconds",
                                                  ttlSeconds + " (expected: 0.." + ttls.max().toSeconds() + ')');
        }
        final GrantScope effective = scope == GrantScope.GRANT_SCOPE_UNSPECIFIED || !approve ? GrantScope.GRANT_SCOPE_ONCE
                                                                                              : scope;
        if (effective == GrantScope.UNRECOGNIZED) {
            throw DomainException.invalidArgument("grant_scope", "unknown scope");
        }
        final Approval current = get(principal, id);
        mayDecide(principal, current, approve);
        if (effective == GrantScope.GRANT_SCOPE_PATTERN) {
            if (pattern.isEmpty()) {
                throw DomainException.invalidArgument("pattern", "is required for GRANT_SCOPE_PATTERN");
            }
            if (!glob(pattern).matcher(CanonicalJson.of(current.getArguments())).matches()) {
                throw DomainException.invalidArgument("pattern", "does not match the approval's own arguments "
                                                                 + CanonicalJson.of(Redaction.struct(current.getArguments())));
            }
        }
        final long now = clock.millis();
        final Duration ttl = ttlSeconds > 0 ? Duration.ofSeconds(ttlSeconds)
                                            : approve ? ttls.grantDefault() : ttls.refusalDefault();
        final boolean won = store.decide(id, approve ? ApprovalState.APPROVAL_STATE_APPROVED
                                                     : ApprovalState.APPROVAL_STATE_DENIED,
                                         effective, effective == GrantScope.GRANT_SCOPE_PATTERN ? pattern : "",
                                         principal.audit(), now, now + ttl.toMillis(), reason, now);
        if (!won) {
            expireDue();
            throw DomainException.conflict("approval " + id + " is no longer pending: "
                                           + get(principal, id).getState().name()).with("approval_id", id);
        }
        final Approval decided = get(principal, id);
        // The decision's own record: who, what and how far (never the arguments, which may hold secrets).
        logger.info("approval {} {} by {} (requested by {}, risk {}, scope {}, action {})", id,
                    decided.getState().name(), decided.getDecidedBy(), decided.getRequestedBy(),
                    decided.getRisk().name(), decided.getGrantScope().name(), decided.getActionHash());
        events.publish(decided, ApprovalChange.APPROVAL_CHANGE_DECIDED);
        return decided;
    }

    /** One approval the principal may see; NOT_FOUND for another tenant's or (to a plain user) another user's. */
    public Approval get(Principal principal, String id) {
        return store.get(tenantOf(principal), requesterOf(principal), id)
                    .orElseThrow(() -> DomainException.notFound("approval", id));
    }

    /**
     * A page of what the principal may see (its own, or its tenant's for an admin), newest first, after the
     * store's key {@code after} (empty for the first page).
     */
    public ApprovalStore.Page<Approval> list(Principal principal, ApprovalState state, List<String> after,
                                             int limit) {
        expireDue();
        return store.list(tenantOf(principal), requesterOf(principal), state, after, limit);
    }

    /**
     * A page of the approval decisions of a tenant ({@code tenant}, or the caller's own when empty), newest
     * first, after the store's key {@code after}: for the tenant's admins and for services.
     */
    public ApprovalStore.Page<Decision> decisions(Principal principal, String tenant, List<String> after,
                                                  int limit) {
        principal.requireAdmin("listing approval decisions");
        return store.decisions(principal.tenantFor(tenant), after, limit);
    }

    /**
     * Whether {@code principal} may see {@code approval} (and hear of its changes): a service every one, an
     * admin its tenant's, a plain user only their own.
     */
    public static boolean visibleTo(Principal principal, Approval approval) {
        return principal.isService() || principal.tenant().equals(approval.getTenant())
                                        && (principal.isAdmin() || !principal.subject().isEmpty()
                                                                   && principal.subject().equals(approval.getRequester()));
    }

    /** The requester whose approvals a principal reads: its own, or anyone's for an admin or a service. */
    @Nullable
    private static String requesterOf(Principal principal) {
        return principal.isService() || principal.isAdmin() ? ApprovalStore.ANY_REQUESTER : principal.subject();
    }

    /** The tenant a principal reads: its own, or every tenant for a service acting for itself. */
    @Nullable
    private static String tenantOf(Principal principal) {
        return principal.isService() ? ApprovalStore.ANY_TENANT : principal.tenant();
    }

    /**
     * An admin decides any approval of its tenant. A plain user (who sees only their own) may refuse their
     * own, and approve it only up to the risk the tenant's policy lets users approve for themselves.
     */
    private void mayDecide(Principal principal, Approval approval, boolean approve) {
        if (principal.isAdmin() || !approve) {
            return;
        }
        if (!policy.maySelfApprove(principal.tenant(), approval.getRisk())) {
            throw DomainException.permissionDenied("a " + approval.getRisk().name() + " action is approved by an admin"
                                                   + " of the tenant; users approve their own only up to "
                                                   + policy.selfApproveLimit(principal.tenant()).name()
                                                   + " (services.evaos.approvals.selfApprove)")
                                 .with("approval_id", approval.getApprovalId())
                                 .with("setting", "services.evaos.approvals.selfApprove");
        }
    }

    /** Expires what is due and tells the watchers. */
    public void expireDue() {
        store.expireDue(clock.millis()).forEach(a -> events.publish(a, ApprovalChange.APPROVAL_CHANGE_EXPIRED));
    }

    private Optional<Approval> findGrant(String tenant, String requester, List<Approval> same, Action action) {
        final long now = clock.millis();
        for (Approval a : same) {
            if (a.getState() != ApprovalState.APPROVAL_STATE_APPROVED || Timestamps.toMillis(a.getExpireTime()) <= now) {
                continue;
            }
            final boolean usable = switch (a.getGrantScope()) {
                case GRANT_SCOPE_ONCE, GRANT_SCOPE_UNSPECIFIED -> a.getUseCount() == 0;
                case GRANT_SCOPE_SESSION -> !action.sessionId().isEmpty() && a.getSessionId().equals(action.sessionId());
                case GRANT_SCOPE_PATTERN -> true;
                default -> false;
            };
            if (usable) {
                return Optional.of(a);
            }
        }
        final String canonical = CanonicalJson.of(action.arguments());
        for (Approval a : store.patternGrants(tenant, requester, action.tool())) {
            if (Timestamps.toMillis(a.getExpireTime()) > now && a.getWorkingDirectory().equals(
                    action.workingDirectory()) && glob(a.getPattern()).matcher(canonical).matches()) {
                return Optional.of(a);
            }
        }
        return Optional.empty();
    }

    /** True when approval {@code a} could allow this action: same hash, or a pattern grant covering it. */
    private static boolean covers(Approval a, Action action, String hash) {
        if (a.getActionHash().equals(hash)) {
            return true;
        }
        return a.getGrantScope() == GrantScope.GRANT_SCOPE_PATTERN && a.getToolName().equals(action.tool())
               && glob(a.getPattern()).matcher(CanonicalJson.of(action.arguments())).matches();
    }

    /**
     * A glob over canonical JSON: {@code *} any run of characters inside one JSON string, {@code ?} one
     * such character; everything else literal. Neither crosses a quote, so a pattern such as
     * {@code {"argv":["touch","*.txt"]}} cannot be stretched over extra arguments.
     */
    static Pattern glob(String glob) {
        final StringBuilder regex = new StringBuilder();
        for (char c : glob.toCharArray()) {
            switch (c) {
                case '*' -> regex.append("[^\"\\\\]*");
                case '?' -> regex.append("[^\"\\\\]");
                default -> regex.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return Pattern.compile(regex.toString());
    }

    private static String scopeName(GrantScope scope) {
        return scope.name().substring("GRANT_SCOPE_".length()).toLowerCase(java.util.Locale.ROOT);
    }
}
