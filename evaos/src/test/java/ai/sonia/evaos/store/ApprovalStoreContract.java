package ai.sonia.evaos.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.protobuf.util.Timestamps;

import ai.sonia.evaos.domain.ApprovalStore;
import ai.sonia.evaos.v1.Approval;
import ai.sonia.evaos.v1.ApprovalState;
import ai.sonia.evaos.v1.Decision;
import ai.sonia.evaos.v1.GrantScope;
import ai.sonia.options.v1.RiskLevel;

/**
 * What every {@link ApprovalStore} must do, whatever holds the data: tenant and requester isolation, one
 * decision per approval however many decide at once, ONCE grants used once, expiry, stable paging,
 * not-found answered as empty or false.
 */
public abstract class ApprovalStoreContract {

    private static final long NOW = 1_800_000_000_000L;

    private ApprovalStore store;

    /** A new, empty store. */
    protected abstract ApprovalStore newStore();

    @BeforeEach
    void open() {
        store = newStore();
    }

    @AfterEach
    void close() throws Exception {
        store.close();
    }

    static Approval.Builder approval(String tenant, String requester, String hash, long createMs) {
        return Approval.newBuilder()
                       .setApprovalId(UUID.randomUUID().toString())
                       .setState(ApprovalState.APPROVAL_STATE_PENDING)
                       .setToolName("shell.run")
                       .setArguments(Struct.newBuilder().putFields("argv", Value.newBuilder().setStringValue(hash)
                                                                                 .build()))
                       .setActionHash(hash)
                       .setRisk(RiskLevel.RISK_LEVEL_HIGH)
                       .setRule("shell.run/default-risk")
                       .setSessionId("s1")
                       .setRequestedBy(tenant + '/' + requester)
                       .setTenant(tenant)
                       .setRequester(requester)
                       .setCreateTime(Timestamps.fromMillis(createMs))
                       .setExpireTime(Timestamps.fromMillis(createMs + 60_000));
    }

    private Approval insert(String tenant, String requester, String hash, long createMs) {
        final Approval a = approval(tenant, requester, hash, createMs).build();
        assertThat(store.insert(a)).isTrue();
        return a;
    }

    private boolean approve(Approval a, GrantScope scope, long expireMs) {
        return store.decide(a.getApprovalId(), ApprovalState.APPROVAL_STATE_APPROVED, scope, "", "acme/boss",
                            NOW, expireMs, "ok", NOW);
    }

    @Test
    void anApprovalIsReadBackAsStored() {
        final Approval a = insert("acme", "ann", "h1", NOW);
        assertThat(store.get("acme", "ann", a.getApprovalId())).contains(a);
    }

    @Test
    void lookupsNeverCrossTenantsOrRequesters() {
        final Approval ann = insert("acme", "ann", "h", NOW);
        final Approval bob = insert("acme", "bob", "h", NOW + 1);
        final Approval other = insert("globex", "ann", "h", NOW + 2);

        assertThat(store.get("acme", "bob", ann.getApprovalId())).isEmpty();
        assertThat(store.get("globex", ApprovalStore.ANY_REQUESTER, ann.getApprovalId())).isEmpty();
        assertThat(store.get("acme", ApprovalStore.ANY_REQUESTER, ann.getApprovalId())).isPresent();
        assertThat(store.get(ApprovalStore.ANY_TENANT, ApprovalStore.ANY_REQUESTER, other.getApprovalId()))
                .isPresent();

        assertThat(store.byHash("acme", "ann", "h")).extracting(Approval::getApprovalId)
                                                     .containsExactly(ann.getApprovalId());
        assertThat(ids(store.list("acme", "ann", ApprovalState.APPROVAL_STATE_UNSPECIFIED, List.of(), 10)))
                .containsExactly(ann.getApprovalId());
        assertThat(ids(store.list("acme", ApprovalStore.ANY_REQUESTER, ApprovalState.APPROVAL_STATE_UNSPECIFIED,
                                  List.of(), 10)))
                .containsExactly(bob.getApprovalId(), ann.getApprovalId());
        assertThat(ids(store.list(ApprovalStore.ANY_TENANT, ApprovalStore.ANY_REQUESTER,
                                  ApprovalState.APPROVAL_STATE_UNSPECIFIED, List.of(), 10)))
                .containsExactly(other.getApprovalId(), bob.getApprovalId(), ann.getApprovalId());

        approve(ann, GrantScope.GRANT_SCOPE_PATTERN, NOW + 60_000);
        assertThat(store.patternGrants("acme", "ann", "shell.run")).hasSize(1);
        assertThat(store.patternGrants("acme", "bob", "shell.run")).isEmpty();
        assertThat(store.patternGrants("globex", "ann", "shell.run")).isEmpty();
        assertThat(store.decisions("globex", List.of(), 10).items()).isEmpty();
        assertThat(store.decisions("acme", List.of(), 10).items()).extracting(Decision::getApprovalId)
                                                                   .containsExactly(ann.getApprovalId());
    }

    @Test
    void ofConcurrentDecidersExactlyOneWins() throws Exception {
        final Approval a = insert("acme", "ann", "h", NOW);
        final List<Boolean> won = race(8, i -> store.decide(
                a.getApprovalId(), i % 2 == 0 ? ApprovalState.APPROVAL_STATE_APPROVED : ApprovalState.APPROVAL_STATE_DENIED,
                GrantScope.GRANT_SCOPE_ONCE, "", "acme/admin" + i, NOW, NOW + 60_000, "r" + i, NOW));
        assertThat(won).containsOnlyOnce(true);
        final Approval decided = store.get("acme", "ann", a.getApprovalId()).orElseThrow();
        assertThat(decided.getState()).isNotEqualTo(ApprovalState.APPROVAL_STATE_PENDING);
        final List<Decision> decisions = store.decisions("acme", List.of(), 100).items();
        assertThat(decisions).hasSize(1);
        assertThat(decisions.get(0).getDecidedBy()).isEqualTo(decided.getDecidedBy());
        assertThat(decisions.get(0).getState()).isEqualTo(decided.getState());
    }

    @Test
    void aOnceGrantIsUsedOnceHoweverManyTryAtOnce() throws Exception {
        final Approval a = insert("acme", "ann", "h", NOW);
        assertThat(approve(a, GrantScope.GRANT_SCOPE_ONCE, NOW + 60_000)).isTrue();
        assertThat(race(8, i -> store.consume(a.getApprovalId()))).containsOnlyOnce(true);
        assertThat(store.get("acme", "ann", a.getApprovalId()).orElseThrow().getUseCount()).isEqualTo(1);
        store.countUse(a.getApprovalId());
        assertThat(store.get("acme", "ann", a.getApprovalId()).orElseThrow().getUseCount()).isEqualTo(2);
    }

    @Test
    void pendingApprovalsAndGrantsExpireWhenDue() {
        final Approval pending = insert("acme", "ann", "p", NOW);
        final Approval grant = insert("acme", "ann", "g", NOW);
        final Approval refusal = insert("acme", "ann", "r", NOW);
        assertThat(approve(grant, GrantScope.GRANT_SCOPE_SESSION, NOW + 10_000)).isTrue();
        assertThat(store.decide(refusal.getApprovalId(), ApprovalState.APPROVAL_STATE_DENIED,
                                GrantScope.GRANT_SCOPE_ONCE, "", "acme/boss", NOW, NOW + 5_000, "no", NOW)).isTrue();

        assertThat(store.expireDue(NOW + 9_999)).isEmpty();
        assertThat(store.expireDue(NOW + 10_000)).extracting(Approval::getApprovalId)
                                                 .containsExactly(grant.getApprovalId());
        assertThat(store.expireDue(NOW + 60_000)).extracting(Approval::getApprovalId, Approval::getState)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(pending.getApprovalId(),
                                                                     ApprovalState.APPROVAL_STATE_EXPIRED));
        assertThat(store.expireDue(NOW + 120_000)).isEmpty();
        // A refusal is remembered until its time, but stays DENIED.
        assertThat(store.get("acme", "ann", refusal.getApprovalId()).orElseThrow().getState())
                .isEqualTo(ApprovalState.APPROVAL_STATE_DENIED);
        assertThat(store.get("acme", "ann", grant.getApprovalId()).orElseThrow().getState())
                .isEqualTo(ApprovalState.APPROVAL_STATE_EXPIRED);
    }

    @Test
    void anExpiredOrDecidedApprovalCannotBeDecided() {
        final Approval a = insert("acme", "ann", "h", NOW);
        assertThat(store.decide(a.getApprovalId(), ApprovalState.APPROVAL_STATE_APPROVED, GrantScope.GRANT_SCOPE_ONCE,
                                "", "acme/boss", NOW + 60_000, NOW + 120_000, "", NOW + 60_000)).isFalse();
        assertThat(approve(a, GrantScope.GRANT_SCOPE_ONCE, NOW + 60_000)).isTrue();
        assertThat(approve(a, GrantScope.GRANT_SCOPE_ONCE, NOW + 60_000)).isFalse();
        assertThat(store.decisions("acme", List.of(), 10).items()).hasSize(1);
    }

    @Test
    void pagesNeitherSkipNorRepeatWhenApprovalsArriveBetweenThem() {
        final List<String> expected = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            expected.add(0, insert("acme", "ann", "h" + i, NOW + i / 2).getApprovalId()); // ties in create time
        }
        final List<String> seen = new ArrayList<>();
        List<String> after = List.of();
        int pages = 0;
        do {
            final ApprovalStore.Page<Approval> page =
                    store.list("acme", "ann", ApprovalState.APPROVAL_STATE_UNSPECIFIED, after, 2);
            seen.addAll(ids(page));
            after = page.nextKey();
            insert("acme", "ann", "late" + pages, NOW + 1000 + pages); // newer: belongs before the first page
            pages++;
        } while (!after.isEmpty());
        assertThat(seen).containsExactlyElementsOf(expected);
        assertThat(pages).isEqualTo(3);
    }

    @Test
    void listingByStateSeesOnlyThatState() {
        final Approval a = insert("acme", "ann", "a", NOW);
        final Approval b = insert("acme", "ann", "b", NOW + 1);
        approve(a, GrantScope.GRANT_SCOPE_ONCE, NOW + 60_000);
        assertThat(ids(store.list("acme", "ann", ApprovalState.APPROVAL_STATE_PENDING, List.of(), 10)))
                .containsExactly(b.getApprovalId());
        assertThat(ids(store.list("acme", "ann", ApprovalState.APPROVAL_STATE_APPROVED, List.of(), 10)))
                .containsExactly(a.getApprovalId());
    }

    @Test
    void decisionPagesRunNewestFirstWithoutSkipOrRepeat() {
        final List<String> expected = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            final Approval a = insert("acme", "ann", "h" + i, NOW);
            approve(a, GrantScope.GRANT_SCOPE_ONCE, NOW + 60_000);
            expected.add(0, a.getApprovalId());
        }
        final List<String> seen = new ArrayList<>();
        List<String> after = List.of();
        do {
            final ApprovalStore.Page<Decision> page = store.decisions("acme", after, 2);
            page.items().forEach(d -> seen.add(d.getApprovalId()));
            after = page.nextKey();
            final Approval late = insert("acme", "ann", "late" + seen.size(), NOW);
            approve(late, GrantScope.GRANT_SCOPE_ONCE, NOW + 60_000);
        } while (!after.isEmpty());
        assertThat(seen).containsExactlyElementsOf(expected);
    }

    @Test
    void unknownIdsAreNotFoundNotErrors() {
        assertThat(store.get("acme", "ann", "nope")).isEmpty();
        assertThat(store.get(ApprovalStore.ANY_TENANT, ApprovalStore.ANY_REQUESTER, "nope")).isEmpty();
        assertThat(store.byHash("acme", "ann", "nope")).isEmpty();
        assertThat(store.decide("nope", ApprovalState.APPROVAL_STATE_APPROVED, GrantScope.GRANT_SCOPE_ONCE, "",
                                "acme/boss", NOW, NOW + 1, "", NOW)).isFalse();
        assertThat(store.consume("nope")).isFalse();
        store.countUse("nope");
        assertThat(store.decisions("acme", List.of(), 10).items()).isEmpty();
        assertThat(store.list("acme", "ann", ApprovalState.APPROVAL_STATE_UNSPECIFIED, List.of(), 10).nextKey())
                .isEmpty();
    }

    @Test
    void aResponseIsRememberedOncePerRequesterAndForgottenWhenOld() {
        assertThat(store.response("acme", "ann", "r1", 0)).isEmpty();
        store.rememberResponse("acme", "ann", "r1", new byte[] {1}, NOW, NOW - 1000);
        store.rememberResponse("acme", "ann", "r1", new byte[] {2}, NOW + 1, NOW - 1000); // the first stays
        assertThat(store.response("acme", "ann", "r1", NOW - 1)).hasValueSatisfying(
                r -> assertThat(r).containsExactly(1));
        assertThat(store.response("acme", "bob", "r1", 0)).isEmpty();
        assertThat(store.response("globex", "ann", "r1", 0)).isEmpty();
        assertThat(store.response("acme", "ann", "r2", 0)).isEmpty();
        assertThat(store.response("acme", "ann", "r1", NOW + 1)).isEmpty(); // older than asked for
        store.rememberResponse("acme", "ann", "r2", new byte[] {3}, NOW + 10, NOW + 5); // forgets r1
        store.rememberResponse("acme", "ann", "r1", new byte[] {4}, NOW + 10, NOW + 5);
        assertThat(store.response("acme", "ann", "r1", 0)).hasValueSatisfying(r -> assertThat(r).containsExactly(4));
    }

    private static List<String> ids(ApprovalStore.Page<Approval> page) {
        return page.items().stream().map(Approval::getApprovalId).toList();
    }

    private interface Attempt {
        boolean run(int i) throws Exception;
    }

    /** Runs {@code n} attempts at once, released together; their results in order. */
    private static List<Boolean> race(int n, Attempt attempt) throws Exception {
        final ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            final CountDownLatch go = new CountDownLatch(1);
            final List<Future<Boolean>> futures = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                final int index = i;
                futures.add(pool.submit((Callable<Boolean>) () -> {
                    go.await();
                    return attempt.run(index);
                }));
            }
            go.countDown();
            final List<Boolean> results = new ArrayList<>();
            for (Future<Boolean> f : futures) {
                results.add(f.get());
            }
            return results;
        } finally {
            pool.shutdownNow();
        }
    }
}
