package ai.sonia.evaos.domain;

import java.util.List;
import java.util.Optional;
import java.util.function.BiConsumer;

import javax.annotation.Nullable;

import ai.sonia.evaos.v1.Approval;
import ai.sonia.evaos.v1.ApprovalChange;
import ai.sonia.evaos.v1.ApprovalState;
import ai.sonia.evaos.v1.Decision;
import ai.sonia.evaos.v1.GrantScope;

/**
 * Where approvals (pending requests, grants, refusals) and the append-only record of their decisions live.
 * Every approval belongs to one requester of one tenant; every lookup but a service's names the tenant, and
 * every lookup but an admin's the requester. State changes are conditional, so of two concurrent deciders or
 * two concurrent uses of a ONCE grant exactly one wins. Implementations pass {@code ApprovalStoreContract}.
 */
public interface ApprovalStore extends AutoCloseable {

    /** Every tenant, for a service acting for itself. */
    @Nullable
    String ANY_TENANT = null;

    /** Every requester of a tenant, for its admins. */
    @Nullable
    String ANY_REQUESTER = null;

    /**
     * A page of a listing and the key of its last item ({@code after} of the next page), empty when the
     * listing has nothing after this page. Keys are the store's own (opaque to callers).
     */
    record Page<T>(List<T> items, List<String> nextKey) {}

    /**
     * Stores a new approval; false when it is pending and its requester has a pending approval of the same
     * action (hash) and session already, made meanwhile through another replica (then nothing is written). A
     * store that one replica alone writes (SQLite; its caller serialises) always stores it.
     */
    boolean insert(Approval approval);

    /**
     * One approval of {@code tenant} ({@link #ANY_TENANT} for a service acting for itself), asked for by
     * {@code requester} ({@link #ANY_REQUESTER} for an admin of the tenant).
     */
    Optional<Approval> get(@Nullable String tenant, @Nullable String requester, String id);

    /** Approvals of one action (its hash) of one requester of a tenant, newest first. */
    List<Approval> byHash(String tenant, String requester, String actionHash);

    /** Approved pattern grants of a tool for one requester of a tenant, oldest first. */
    List<Approval> patternGrants(String tenant, String requester, String tool);

    /**
     * Up to {@code limit} approvals of a tenant ({@link #ANY_TENANT} for all) and requester
     * ({@link #ANY_REQUESTER} for all), in {@code state} (UNSPECIFIED for all), newest first, after the item
     * whose key is {@code after} (empty for the first page). Approvals inserted meanwhile never shift a page.
     */
    Page<Approval> list(@Nullable String tenant, @Nullable String requester, ApprovalState state,
                        List<String> after, int limit);

    /**
     * Up to {@code limit} decisions of {@code tenant}, newest first, after the decision whose key is
     * {@code after} (empty for the first page).
     */
    Page<Decision> decisions(String tenant, List<String> after, int limit);

    /**
     * Decides approval {@code id} if it is still pending and not expired at {@code nowMs}, and appends the
     * decision to the record, atomically; false when it was no longer pending (then nothing is written).
     */
    boolean decide(String id, ApprovalState state, GrantScope scope, String pattern, String decidedBy,
                   long decideMs, long expireMs, String reason, long nowMs);

    /** Uses a ONCE grant; false when it was already used. */
    boolean consume(String id);

    /** Counts a use of a SESSION or PATTERN grant. */
    void countUse(String id);

    /** Expires pending approvals and grants whose time has come; returns them as they are now. */
    List<Approval> expireDue(long nowMs);

    /** The response remembered for request {@code requestId} of this requester since {@code sinceMs}, if any. */
    Optional<byte[]> response(String tenant, String requester, String requestId, long sinceMs);

    /**
     * Remembers the response to request {@code requestId} of this requester at {@code nowMs} (one remembered
     * already stays), and forgets every response remembered before {@code forgetBeforeMs}.
     */
    void rememberResponse(String tenant, String requester, String requestId, byte[] response, long nowMs,
                          long forgetBeforeMs);

    /**
     * From now on, hands {@code listener} each change (CREATED by {@link #insert}, DECIDED by {@link #decide},
     * EXPIRED by {@link #expireDue}) that another store on the same data (another replica) commits: once
     * each, in commit order, with the approval as it is when read. The changes made through this store are
     * not handed over (its caller knows them). When changes may have been missed (the engine out of reach),
     * {@code lost} runs, once per outage, before the store follows again. A store that no other replica
     * shares (SQLite) has nothing to hand; the default does nothing. Called once, when the service is wired.
     *
     * @throws IllegalStateException when the changes cannot be followed (the store's engine unreachable)
     */
    default void followOtherReplicas(BiConsumer<Approval, ApprovalChange> listener, Runnable lost) {}
}
