package ai.sonia.evaos;

import static ai.sonia.evaos.ApprovalFlowTest.code;
import static ai.sonia.evaos.ApprovalTenancyTest.approve;
import static ai.sonia.evaos.ApprovalTenancyTest.mkdir;
import static ai.sonia.evaos.ApprovalTenancyTest.write;
import static ai.sonia.runtime.testing.StatusDetails.errorInfo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.protobuf.util.JsonFormat;

import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.RequestHeaders;

import ai.sonia.common.v1.Role;
import ai.sonia.evaos.domain.CanonicalJson;
import ai.sonia.evaos.v1.Approval;
import ai.sonia.evaos.v1.ApprovalChange;
import ai.sonia.evaos.v1.ApprovalState;
import ai.sonia.evaos.v1.AuthorizeActionRequest;
import ai.sonia.evaos.v1.AuthorizeActionResponse;
import ai.sonia.evaos.v1.EvaOsServiceGrpc;
import ai.sonia.evaos.v1.EvaOsServiceGrpc.EvaOsServiceBlockingStub;
import ai.sonia.evaos.v1.GetApprovalRequest;
import ai.sonia.evaos.v1.GrantScope;
import ai.sonia.evaos.v1.ListApprovalsRequest;
import ai.sonia.evaos.v1.Verdict;
import ai.sonia.evaos.v1.WatchApprovalsRequest;
import ai.sonia.evaos.v1.WatchApprovalsResponse;
import ai.sonia.options.v1.RiskLevel;
import ai.sonia.runtime.testing.SoniaServiceExtension;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;

/**
 * Approvals belong to the user who asked, inside a tenant: another user of the same tenant neither sees,
 * streams, decides nor uses them (by gRPC and REST), a grant allows only its requester's actions, a plain
 * user approves their own MEDIUM/HIGH only where the tenant's policy says so, secrets in pending arguments
 * are masked wherever an approval is shown while the hash binds the exact arguments, and one principal holds
 * a bounded number of watches.
 */
class ApprovalOwnershipTest {

    private static final String SECRET = "Bearer s3cr3t-t0ken-of-alice-0123456789";
    private static final int MAX_WATCHES = 3;

    @RegisterExtension
    static final SoniaServiceExtension evaos = SoniaServiceExtension.of(new EvaOsModule())
            .config("{\"approvals\":{\"selfApprove\":{\"lenient\":\"MEDIUM\"},"
                    + "\"maxStreamsPerPrincipal\":" + MAX_WATCHES + "}}");
    private static String aliceToken;
    private static String bobToken;
    private static String adminToken;
    private static EvaOsServiceBlockingStub alice;
    private static EvaOsServiceBlockingStub bob;
    private static EvaOsServiceBlockingStub admin;

    @BeforeAll
    static void start() {
        aliceToken = evaos.token("acme", "alice", Role.ROLE_USER);
        bobToken = evaos.token("acme", "bob", Role.ROLE_USER);
        adminToken = evaos.token("acme", "root", Role.ROLE_ADMIN);
        alice = evaos.stub(EvaOsServiceGrpc::newBlockingStub, aliceToken);
        bob = evaos.stub(EvaOsServiceGrpc::newBlockingStub, bobToken);
        admin = evaos.stub(EvaOsServiceGrpc::newBlockingStub, adminToken);
    }

    /** http.fetch with an Authorization header and a token in the query: MEDIUM risk. */
    static AuthorizeActionRequest.Builder fetch(String session) {
        return AuthorizeActionRequest.newBuilder().setToolName("http.fetch").setSessionId(session).setArguments(
                Struct.newBuilder()
                      .putFields("url", string("https://api.example.com/v1/items?access_token=qs-secret-123&page=2"))
                      .putFields("headers", Value.newBuilder().setStructValue(
                              Struct.newBuilder().putFields("Authorization", string(SECRET))
                                    .putFields("X-Api-Key", string("key-secret-456"))
                                    .putFields("Accept", string("application/json"))).build())
                      .build());
    }

    static Value string(String s) {
        return Value.newBuilder().setStringValue(s).build();
    }

    static GetApprovalRequest get(String id) {
        return GetApprovalRequest.newBuilder().setApprovalId(id).build();
    }

    @Test
    void anotherUserOfTheTenantCannotSeeOrDecideByGrpcOrRest() {
        final String id = alice.authorizeAction(write("alice-only.txt", "s").build()).getApproval().getApprovalId();
        assertThatThrownBy(() -> bob.getApproval(get(id)))
                .satisfies(e -> assertThat(code(e)).isEqualTo(Status.Code.NOT_FOUND));
        // Permission before existence: deciding another user's approval is NOT_FOUND, not PERMISSION_DENIED.
        assertThatThrownBy(() -> bob.decideApproval(approve(id)))
                .satisfies(e -> assertThat(code(e)).isEqualTo(Status.Code.NOT_FOUND));
        assertThatThrownBy(() -> bob.decideApproval(approve(id).toBuilder().setApprove(false).build()))
                .satisfies(e -> assertThat(code(e)).isEqualTo(Status.Code.NOT_FOUND));
        assertThat(bob.listApprovals(ListApprovalsRequest.newBuilder().setPageSize(500).build()).getApprovalsList())
                .noneMatch(a -> a.getApprovalId().equals(id)).allMatch(a -> a.getRequester().equals("bob"));
        assertThat(alice.listApprovals(ListApprovalsRequest.newBuilder().setPageSize(500).build())
                        .getApprovalsList()).anyMatch(a -> a.getApprovalId().equals(id))
                                            .allMatch(a -> a.getRequester().equals("alice"));
        assertThat(admin.listApprovals(ListApprovalsRequest.newBuilder().setPageSize(500).build())
                        .getApprovalsList()).anyMatch(a -> a.getApprovalId().equals(id));

        final var asBob = evaos.rest(bobToken);
        assertThat(asBob.get("/v1/approvals/" + id).aggregate().join().status().code()).isEqualTo(404);
        final AggregatedHttpResponse decide = asBob.execute(
                RequestHeaders.builder(HttpMethod.POST, "/v1/approvals/" + id + ":decide")
                              .contentType(MediaType.JSON_UTF_8).build(), "{\"approve\":true}").aggregate().join();
        assertThat(decide.status().code()).isEqualTo(404);
        assertThat(decide.contentUtf8()).contains("NOT_FOUND");
        assertThat(asBob.get("/v1/approvals?page_size=500").aggregate().join().contentUtf8()).doesNotContain(id);
        assertThat(evaos.rest(aliceToken).get("/v1/approvals/" + id).aggregate().join().status().code())
                .isEqualTo(200);
        assertThat(alice.getApproval(get(id)).getState()).isEqualTo(ApprovalState.APPROVAL_STATE_PENDING);
    }

    @Test
    void anotherUsersGrantsNeverAllowAnAction() {
        // ONCE: bob presents alice's approved id for the very same action, and cannot use it up.
        final AuthorizeActionResponse asked = alice.authorizeAction(write("once.txt", "shared").build());
        final String once = asked.getApproval().getApprovalId();
        admin.decideApproval(approve(once));
        final AuthorizeActionResponse stolen = bob.authorizeAction(
                write("once.txt", "shared").setApprovalId(once).setExecute(true).build());
        assertThat(stolen.getVerdict()).isEqualTo(Verdict.VERDICT_REQUIRE_APPROVAL);
        assertThat(stolen.getApproval().getApprovalId()).isNotEqualTo(once);
        assertThat(stolen.getApproval().getRequester()).isEqualTo("bob");
        assertThat(admin.getApproval(get(once)).getUseCount()).isZero();

        // SESSION: the same session id of another user is not covered.
        final String session = alice.authorizeAction(write("session.txt", "shared").build()).getApproval()
                                    .getApprovalId();
        admin.decideApproval(approve(session).toBuilder().setGrantScope(GrantScope.GRANT_SCOPE_SESSION).build());
        assertThat(bob.authorizeAction(write("session.txt", "shared").setExecute(true).build()).getVerdict())
                .isEqualTo(Verdict.VERDICT_REQUIRE_APPROVAL);

        // PATTERN: alice's pattern grant does not let bob's matching file.write run.
        final String pattern = alice.authorizeAction(write("a.log", "p").build()).getApproval().getApprovalId();
        admin.decideApproval(approve(pattern).toBuilder().setGrantScope(GrantScope.GRANT_SCOPE_PATTERN)
                                             .setPattern("{\"content\":\"x\",\"path\":\"*.log\"}").build());
        assertThat(bob.authorizeAction(write("b.log", "p").setExecute(true).build()).getVerdict())
                .isEqualTo(Verdict.VERDICT_REQUIRE_APPROVAL);

        // ...while alice's own actions use all three, and her ONCE grant exactly once.
        assertThat(alice.authorizeAction(write("once.txt", "shared").setApprovalId(once).setExecute(true).build())
                        .getVerdict()).isEqualTo(Verdict.VERDICT_ALLOW);
        assertThat(alice.authorizeAction(write("once.txt", "shared").setExecute(true).build()).getVerdict())
                .isEqualTo(Verdict.VERDICT_REQUIRE_APPROVAL);
        assertThat(alice.authorizeAction(write("session.txt", "shared").setExecute(true).build()).getVerdict())
                .isEqualTo(Verdict.VERDICT_ALLOW);
        assertThat(alice.authorizeAction(write("c.log", "p").setExecute(true).build()).getVerdict())
                .isEqualTo(Verdict.VERDICT_ALLOW);
    }

    @Test
    void aPlainUserMayNotApproveTheirOwnMediumOrHighButAnAdminMay() {
        final Approval high = alice.authorizeAction(mkdir("own-high", "s").build()).getApproval();
        final Approval medium = alice.authorizeAction(write("own-medium.txt", "s").build()).getApproval();
        assertThat(high.getRisk()).isEqualTo(RiskLevel.RISK_LEVEL_HIGH);
        assertThat(medium.getRisk()).isEqualTo(RiskLevel.RISK_LEVEL_MEDIUM);
        for (Approval a : List.of(high, medium)) {
            assertThatThrownBy(() -> alice.decideApproval(approve(a.getApprovalId())))
                    .satisfies(e -> assertThat(code(e)).isEqualTo(Status.Code.PERMISSION_DENIED))
                    .satisfies(e -> assertThat(errorInfo(e).getReason()).isEqualTo("PERMISSION_DENIED"))
                    .satisfies(e -> assertThat(errorInfo(e).getMetadataMap())
                            .containsEntry("approval_id", a.getApprovalId())
                            .containsEntry("setting", "services.evaos.approvals.selfApprove"));
        }
        final AggregatedHttpResponse rest = evaos.rest(aliceToken).execute(
                RequestHeaders.builder(HttpMethod.POST, "/v1/approvals/" + high.getApprovalId() + ":decide")
                              .contentType(MediaType.JSON_UTF_8).build(), "{\"approve\":true}").aggregate().join();
        assertThat(rest.status().code()).isEqualTo(403);
        assertThat(rest.contentUtf8()).contains("PERMISSION_DENIED");
        assertThat(alice.authorizeAction(mkdir("own-high", "s").setExecute(true).build()).getVerdict())
                .isEqualTo(Verdict.VERDICT_REQUIRE_APPROVAL);

        // She may still withdraw her own: a refusal is hers to give.
        final Approval withdrawn = alice.decideApproval(approve(medium.getApprovalId()).toBuilder()
                                                                                      .setApprove(false).build());
        assertThat(withdrawn.getState()).isEqualTo(ApprovalState.APPROVAL_STATE_DENIED);
        assertThat(withdrawn.getDecidedBy()).isEqualTo("acme/alice");

        // An admin approves; the decision names the admin, and the action runs for alice.
        final Approval decided = admin.decideApproval(approve(high.getApprovalId()).toBuilder()
                                                                                .setReason("looks fine").build());
        assertThat(decided.getDecidedBy()).isEqualTo("acme/root");
        assertThat(decided.getReason()).isEqualTo("looks fine");
        assertThat(decided.hasDecideTime()).isTrue();
        assertThat(alice.getApproval(get(high.getApprovalId())).getDecidedBy()).isEqualTo("acme/root");
        assertThat(alice.authorizeAction(mkdir("own-high", "s").setExecute(true).build()).getVerdict())
                .isEqualTo(Verdict.VERDICT_ALLOW);
    }

    @Test
    void everyDecisionIsAppendedWithItsDeciderAndOutlivesTheApprovalsLaterChanges() throws Exception {
        final Approval asked = alice.authorizeAction(mkdir("recorded", "r").build()).getApproval();
        final Approval refused = alice.authorizeAction(write("recorded.txt", "r").build()).getApproval();
        admin.decideApproval(approve(asked.getApprovalId()).toBuilder().setReason("ok for today").build());
        alice.decideApproval(approve(refused.getApprovalId()).toBuilder().setApprove(false).build());
        // The ONCE grant is used: the approval changes, its decision record does not.
        assertThat(alice.authorizeAction(mkdir("recorded", "r").setExecute(true).build()).getVerdict())
                .isEqualTo(Verdict.VERDICT_ALLOW);
        // A decision that loses (no longer pending) appends nothing.
        assertThatThrownBy(() -> admin.decideApproval(approve(refused.getApprovalId())))
                .satisfies(e -> assertThat(code(e)).isEqualTo(Status.Code.FAILED_PRECONDITION));
        try (java.sql.Connection c = java.sql.DriverManager.getConnection(
                "jdbc:sqlite:" + evaos.home().resolve("data/evaos/approvals.db"));
             java.sql.PreparedStatement ps = c.prepareStatement(
                     "SELECT approval_id, tenant, requester, decided_by, decide_ms, state, grant_scope, risk, tool, "
                     + "action_hash, reason FROM decisions WHERE approval_id IN (?, ?) ORDER BY rowid")) {
            ps.setString(1, asked.getApprovalId());
            ps.setString(2, refused.getApprovalId());
            final List<String> rows = new java.util.ArrayList<>();
            try (java.sql.ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    assertThat(rs.getLong("decide_ms")).isPositive();
                    rows.add(String.join("|", rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                                         ApprovalState.forNumber(rs.getInt(6)).name(),
                                         GrantScope.forNumber(rs.getInt(7)).name(),
                                         RiskLevel.forNumber(rs.getInt(8)).name(), rs.getString(9),
                                         rs.getString(10), rs.getString(11)));
                }
            }
            assertThat(rows).containsExactly(
                    String.join("|", asked.getApprovalId(), "acme", "alice", "acme/root", "APPROVAL_STATE_APPROVED",
                                "GRANT_SCOPE_ONCE", "RISK_LEVEL_HIGH", "shell.run", asked.getActionHash(),
                                "ok for today"),
                    String.join("|", refused.getApprovalId(), "acme", "alice", "acme/alice", "APPROVAL_STATE_DENIED",
                                "GRANT_SCOPE_ONCE", "RISK_LEVEL_MEDIUM", "file.write", refused.getActionHash(), ""));
        }
    }

    @Test
    void aTenantsPolicyMayLetUsersApproveTheirOwnMediumButNotHigh() {
        final EvaOsServiceBlockingStub carol = evaos.stub(EvaOsServiceGrpc::newBlockingStub, evaos.token("lenient", "carol", Role.ROLE_USER));
        final String medium = carol.authorizeAction(write("mine.txt", "s").build()).getApproval().getApprovalId();
        final Approval decided = carol.decideApproval(approve(medium));
        assertThat(decided.getState()).isEqualTo(ApprovalState.APPROVAL_STATE_APPROVED);
        assertThat(decided.getDecidedBy()).isEqualTo("lenient/carol");
        assertThat(carol.authorizeAction(write("mine.txt", "s").setExecute(true).build()).getVerdict())
                .isEqualTo(Verdict.VERDICT_ALLOW);
        final String high = carol.authorizeAction(mkdir("mine", "s").build()).getApproval().getApprovalId();
        assertThatThrownBy(() -> carol.decideApproval(approve(high)))
                .satisfies(e -> assertThat(code(e)).isEqualTo(Status.Code.PERMISSION_DENIED));
    }

    @Test
    void secretsAreMaskedInListGetDecideAndStreamWhileTheHashBindsTheExactArguments() throws Exception {
        final List<WatchApprovalsResponse> adminSees = new CopyOnWriteArrayList<>();
        final Context.CancellableContext watch = watch(adminToken, adminSees, new AtomicReference<>());
        try {
            final AuthorizeActionResponse asked = alice.authorizeAction(fetch("f").build());
            assertThat(asked.getVerdict()).isEqualTo(Verdict.VERDICT_REQUIRE_APPROVAL);
            final String id = asked.getApproval().getApprovalId();
            // The hash is of the exact arguments, secrets and all.
            assertThat(asked.getActionHash()).isEqualTo(CanonicalJson.actionHash(
                    "acme", "http.fetch", fetch("f").getArguments(), ""));
            await().atMost(Duration.ofSeconds(10)).until(() -> adminSees.stream().anyMatch(
                    r -> r.getApproval().getApprovalId().equals(id)));

            final List<Approval> shown = List.of(
                    asked.getApproval(),
                    admin.getApproval(get(id)),
                    alice.getApproval(get(id)),
                    admin.listApprovals(ListApprovalsRequest.newBuilder().setPageSize(500).build())
                         .getApprovalsList().stream().filter(a -> a.getApprovalId().equals(id)).findFirst()
                         .orElseThrow(),
                    adminSees.stream().filter(r -> r.getApproval().getApprovalId().equals(id)).findFirst()
                             .orElseThrow().getApproval());
            for (Approval a : shown) {
                final String json = JsonFormat.printer().print(a);
                assertThat(json).doesNotContain("s3cr3t").doesNotContain("key-secret-456")
                                .doesNotContain("qs-secret-123").contains("[REDACTED]")
                                .contains("application/json").contains("api.example.com");
                assertThat(a.getActionHash()).isEqualTo(asked.getActionHash());
            }
            final String rest = evaos.rest(adminToken).get("/v1/approvals?page_size=500").aggregate().join()
                                     .contentUtf8();
            assertThat(rest).contains(id).doesNotContain("s3cr3t").doesNotContain("key-secret-456");

            // Approving the masked view grants the exact action: it runs with its real header...
            final Approval decided = admin.decideApproval(approve(id));
            assertThat(JsonFormat.printer().print(decided)).doesNotContain("s3cr3t");
            await().atMost(Duration.ofSeconds(10)).until(() -> adminSees.stream().anyMatch(
                    r -> r.getChange() == ApprovalChange.APPROVAL_CHANGE_DECIDED && r.getApproval().getApprovalId().equals(id)));
            assertThat(adminSees).allSatisfy(r -> assertThat(JsonFormat.printer().print(r)).doesNotContain("s3cr3t"));
            // ...while the masked arguments, sent back as they were shown, are another action.
            final AuthorizeActionResponse masked = alice.authorizeAction(
                    fetch("f").setArguments(decided.getArguments()).setApprovalId(id).setExecute(true).build());
            assertThat(masked.getVerdict()).isEqualTo(Verdict.VERDICT_DENY);
            assertThat(masked.getActionHash()).isNotEqualTo(asked.getActionHash());
            assertThat(alice.authorizeAction(fetch("f").setApprovalId(id).setExecute(true).build()).getVerdict())
                    .isEqualTo(Verdict.VERDICT_ALLOW);
        } finally {
            watch.cancel(null);
        }
    }

    @Test
    void aPlainUserStreamsOnlyTheirOwnApprovals() {
        final List<WatchApprovalsResponse> bobSees = new CopyOnWriteArrayList<>();
        final Context.CancellableContext watch = watch(bobToken, bobSees, new AtomicReference<>());
        try {
            final String alices = alice.authorizeAction(write("stream-alice.txt", "w").build()).getApproval()
                                       .getApprovalId();
            admin.decideApproval(approve(alices));
            final String bobs = bob.authorizeAction(write("stream-bob.txt", "w").build()).getApproval()
                                   .getApprovalId();
            // Events reach a watcher in order: once bob's own arrived, alice's earlier ones would have too.
            await().atMost(Duration.ofSeconds(10)).until(() -> bobSees.stream().anyMatch(
                    r -> r.getApproval().getApprovalId().equals(bobs)));
            assertThat(bobSees).allMatch(r -> r.getApproval().getRequester().equals("bob"));
        } finally {
            watch.cancel(null);
        }
    }

    @Test
    void onePrincipalHoldsABoundedNumberOfWatches() {
        final String token = evaos.token("acme", "watcher", Role.ROLE_USER);
        final List<Context.CancellableContext> held = new CopyOnWriteArrayList<>();
        try {
            // One more watch than the cap, opened at once: the server may take them in any order, so exactly
            // one of them (not necessarily the last sent) is refused.
            final List<AtomicReference<Throwable>> failures = new ArrayList<>();
            for (int i = 0; i <= MAX_WATCHES; i++) {
                final AtomicReference<Throwable> failed = new AtomicReference<>();
                failures.add(failed);
                held.add(watch(token, new CopyOnWriteArrayList<>(), failed));
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> failures.stream().anyMatch(f -> f.get() != null));
            final int refusedAt = failures.indexOf(failures.stream().filter(f -> f.get() != null).findFirst()
                                                           .orElseThrow());
            final Throwable refused = failures.get(refusedAt).get();
            assertThat(code(refused)).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
            assertThat(errorInfo(refused).getReason()).isEqualTo("RATE_LIMITED");
            assertThat(failures).filteredOn(f -> f.get() != null).hasSize(1);
            // Another user is not affected...
            final AtomicReference<Throwable> other = new AtomicReference<>();
            final List<WatchApprovalsResponse> otherSees = new CopyOnWriteArrayList<>();
            held.add(watch(bobToken, otherSees, other));
            final String bobs = bob.authorizeAction(write("cap-bob.txt", "w").build()).getApproval().getApprovalId();
            await().atMost(Duration.ofSeconds(10)).until(() -> otherSees.stream().anyMatch(
                    r -> r.getApproval().getApprovalId().equals(bobs)));
            assertThat(other.get()).isNull();
            // ...and a watch ended gives its slot back.
            held.get(refusedAt == 0 ? 1 : 0).cancel(null);
            await().atMost(Duration.ofSeconds(10)).until(() -> {
                final AtomicReference<Throwable> again = new AtomicReference<>();
                final List<WatchApprovalsResponse> seen = new CopyOnWriteArrayList<>();
                final Context.CancellableContext retry = watch(token, seen, again);
                held.add(retry);
                final String mine = evaos.stub(EvaOsServiceGrpc::newBlockingStub, token).authorizeAction(
                        write("cap-" + System.nanoTime() + ".txt", "w").build()).getApproval().getApprovalId();
                await().atMost(Duration.ofSeconds(10)).until(() -> again.get() != null || seen.stream().anyMatch(
                        r -> r.getApproval().getApprovalId().equals(mine)));
                return again.get() == null;
            });
        } finally {
            held.forEach(c -> c.cancel(null));
        }
    }

    /** Watches as {@code token} inside a context the caller cancels to end the watch. */
    private static Context.CancellableContext watch(String token, List<WatchApprovalsResponse> seen,
                                                    AtomicReference<Throwable> failure) {
        return watch(evaos, token, seen, failure);
    }

    static Context.CancellableContext watch(SoniaServiceExtension evaos, String token, List<WatchApprovalsResponse> seen,
                                            AtomicReference<Throwable> failure) {
        final Context.CancellableContext ctx = Context.current().withCancellation();
        ctx.run(() -> evaos.stub(EvaOsServiceGrpc::newStub, token).watchApprovals(
                WatchApprovalsRequest.getDefaultInstance(), new StreamObserver<>() {
                    @Override
                    public void onNext(WatchApprovalsResponse value) {
                        seen.add(value);
                    }

                    @Override
                    public void onError(Throwable t) {
                        failure.compareAndSet(null, t);
                    }

                    @Override
                    public void onCompleted() {}
                }));
        return ctx;
    }
}
