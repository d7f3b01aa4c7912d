package ai.sonia.evaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import ai.sonia.common.v1.Role;
import ai.sonia.evaos.v1.ApprovalChange;
import ai.sonia.evaos.v1.ApprovalState;
import ai.sonia.evaos.v1.AuthorizeActionRequest;
import ai.sonia.evaos.v1.DecideApprovalRequest;
import ai.sonia.evaos.v1.DisableTrainingRequest;
import ai.sonia.evaos.v1.EnableTrainingRequest;
import ai.sonia.evaos.v1.EvaOsServiceGrpc;
import ai.sonia.evaos.v1.EvaOsServiceGrpc.EvaOsServiceBlockingStub;
import ai.sonia.evaos.v1.GetApprovalRequest;
import ai.sonia.evaos.v1.GetTrainingStatusRequest;
import ai.sonia.evaos.v1.Verdict;
import ai.sonia.evaos.v1.WatchApprovalsResponse;
import ai.sonia.runtime.testing.EmbeddedPostgresExtension;
import ai.sonia.runtime.testing.SoniaServiceExtension;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * {@code "store": {"engine": "postgres"}}: two evaos replicas on one PostgreSQL. An approval asked for and
 * decided through one replica is seen by a watcher of the other, each change once; of two
 * admins deciding it through both at once, one wins and the other gets CONFLICT; training mode set through
 * one holds at the other (without Redis); a start without the database fails closed, naming it.
 */
class PostgresEngineTest {

    // What the code promises is that this happens, within about a second on an idle machine (a poll period, a
    // NOTIFY): that latency is a figure of the benchmarks. A loaded 2-core CI machine can hold a poll or a
    // listener back for longer, so the tests give it 10 s: they prove it happens, not how fast.
    private static final Duration PROMPTLY = Duration.ofSeconds(10);

    @RegisterExtension
    static final EmbeddedPostgresExtension postgres = new EmbeddedPostgresExtension();

    private static SoniaServiceExtension replicaA;
    private static SoniaServiceExtension replicaB;

    @BeforeAll
    static void replicas() {
        replicaA = SoniaServiceExtension.of(new EvaOsModule()).stackConfig(EmbeddedPostgresExtension.stackConfig(postgres.url())).start();
        replicaB = SoniaServiceExtension.of(new EvaOsModule()).home(replicaA.home()).start();
    }

    @AfterAll
    static void stop() {
        replicaB.close();
        replicaA.close();
    }

    @Test
    void aWatcherOfOneReplicaSeesWhatTheOtherCreatesAndDecidesOnceEach() {
        final String adminToken = replicaA.token("acme", "root", Role.ROLE_ADMIN);
        final List<WatchApprovalsResponse> atA = new CopyOnWriteArrayList<>();
        final List<WatchApprovalsResponse> atB = new CopyOnWriteArrayList<>();
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final Context.CancellableContext watchA = ApprovalOwnershipTest.watch(replicaA, adminToken, atA, failure);
        final Context.CancellableContext watchB = ApprovalOwnershipTest.watch(replicaB, adminToken, atB, failure);
        try {
            // Both watches are open once each sees the snapshot's marker: a pending approval asked for before.
            final String marker = user(replicaA).authorizeAction(ApprovalTenancyTest.mkdir("m-" + UUID.randomUUID(), "s").build())
                                                .getApproval().getApprovalId();
            await().atMost(Duration.ofSeconds(10)).until(() -> seen(atA, marker) && seen(atB, marker));

            final String id = user(replicaB).authorizeAction(ApprovalTenancyTest.mkdir("d-" + UUID.randomUUID(), "s").build())
                                            .getApproval().getApprovalId();
            await().atMost(PROMPTLY).pollInterval(Duration.ofMillis(20))
                   .until(() -> changes(atA, id).contains(ApprovalChange.APPROVAL_CHANGE_CREATED));
            admin(replicaB).decideApproval(ApprovalTenancyTest.approve(id));
            await().atMost(PROMPTLY).pollInterval(Duration.ofMillis(20))
                   .until(() -> changes(atA, id).contains(ApprovalChange.APPROVAL_CHANGE_DECIDED));

            // A third change after them, so that a late double of either would have arrived by now.
            final String after = user(replicaB).authorizeAction(ApprovalTenancyTest.mkdir("z-" + UUID.randomUUID(), "s").build())
                                               .getApproval().getApprovalId();
            await().atMost(PROMPTLY).until(() -> seen(atA, after) && seen(atB, after));
            for (List<WatchApprovalsResponse> watcher : List.of(atA, atB)) {
                assertThat(changes(watcher, id)).containsExactly(ApprovalChange.APPROVAL_CHANGE_CREATED,
                                                                 ApprovalChange.APPROVAL_CHANGE_DECIDED);
                assertThat(watcher.stream().filter(w -> w.getApproval().getApprovalId().equals(id)
                                                        && w.getChange() == ApprovalChange.APPROVAL_CHANGE_DECIDED))
                        .singleElement().satisfies(w -> {
                            assertThat(w.getApproval().getState()).isEqualTo(ApprovalState.APPROVAL_STATE_APPROVED);
                            assertThat(w.getApproval().getDecidedBy()).isEqualTo("acme/root");
                        });
                assertThat(changes(watcher, after)).containsExactly(ApprovalChange.APPROVAL_CHANGE_CREATED);
            }
            assertThat(failure.get()).isNull();
        } finally {
            watchA.cancel(null);
            watchB.cancel(null);
        }
    }

    @Test
    void aWatchEndsUnavailableWhenItsReplicaMayHaveMissedChanges() throws Exception {
        final String adminToken = replicaA.token("acme", "root", Role.ROLE_ADMIN);
        final List<WatchApprovalsResponse> seen = new CopyOnWriteArrayList<>();
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final Context.CancellableContext watch = ApprovalOwnershipTest.watch(replicaA, adminToken, seen, failure);
        try {
            final String marker = user(replicaA).authorizeAction(ApprovalTenancyTest.mkdir("l-" + UUID.randomUUID(), "s")
                                                                                    .build())
                                                .getApproval().getApprovalId();
            await().atMost(Duration.ofSeconds(10)).until(() -> seen(seen, marker));
            sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'evaos-approvals-follow'");
            await().atMost(Duration.ofSeconds(5)).until(() -> failure.get() != null);
            assertThat(Status.fromThrowable(failure.get()).getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        } finally {
            watch.cancel(null);
        }
        // Both replicas follow again (for the other tests).
        await().atMost(Duration.ofSeconds(5)).until(() -> sql("SELECT count(*) FROM pg_stat_activity WHERE "
                + "application_name = 'evaos-approvals-follow' AND state = 'idle' AND query LIKE 'LISTEN%'") == 2);
    }

    @Test
    void ofAdminsDecidingThroughBothReplicasAtOnceOneWinsTheOtherGetsConflict() throws Exception {
        final ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            for (int round = 0; round < 5; round++) {
                final String id = user(replicaA).authorizeAction(
                        ApprovalTenancyTest.mkdir("r-" + UUID.randomUUID(), "s").build()).getApproval().getApprovalId();
                final CountDownLatch go = new CountDownLatch(1);
                final List<Future<Status.Code>> deciders = new ArrayList<>();
                for (SoniaServiceExtension replica : List.of(replicaA, replicaB)) {
                    final EvaOsServiceBlockingStub admin = admin(replica);
                    final boolean approve = replica == replicaA;
                    deciders.add(pool.submit(() -> {
                        go.await();
                        try {
                            admin.decideApproval(DecideApprovalRequest.newBuilder().setApprovalId(id)
                                                                      .setApprove(approve).build());
                            return Status.Code.OK;
                        } catch (StatusRuntimeException e) {
                            return e.getStatus().getCode();
                        }
                    }));
                }
                go.countDown();
                final List<Status.Code> codes = new ArrayList<>();
                for (Future<Status.Code> f : deciders) {
                    codes.add(f.get());
                }
                assertThat(codes).containsExactlyInAnyOrder(Status.Code.OK, Status.Code.FAILED_PRECONDITION);
                // Both replicas read the one decision.
                assertThat(admin(replicaA).getApproval(GetApprovalRequest.newBuilder().setApprovalId(id).build()))
                        .isEqualTo(admin(replicaB).getApproval(GetApprovalRequest.newBuilder().setApprovalId(id).build()));
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void oneActionAskedForThroughBothReplicasAtOnceMakesOneApproval() throws Exception {
        final ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            for (int round = 0; round < 5; round++) {
                final AuthorizeActionRequest request = ApprovalTenancyTest.mkdir("p-" + UUID.randomUUID(), "s").build();
                final CountDownLatch go = new CountDownLatch(1);
                final List<Future<String>> askers = new ArrayList<>();
                for (SoniaServiceExtension replica : List.of(replicaA, replicaB)) {
                    final EvaOsServiceBlockingStub user = user(replica);
                    askers.add(pool.submit(() -> {
                        go.await();
                        return user.authorizeAction(request).getApproval().getApprovalId();
                    }));
                }
                go.countDown();
                assertThat(askers.get(0).get()).isEqualTo(askers.get(1).get());
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * ClusterIT's flow, many times, by two users at once: asked through one replica, seen and approved once
     * through the other, seen approved by the requester, previewed (as the gateway does) and run with its id (as
     * openclaw does) through either. Each run is allowed by that very approval, never answered with a new one.
     */
    @Test
    void anApprovalDecidedThroughOneReplicaIsUsedThroughEitherByItsOwnId() throws Exception {
        final ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            final List<Future<?>> users = new ArrayList<>();
            for (String name : List.of("alice", "bob")) {
                users.add(pool.submit(() -> {
                    for (int i = 0; i < 8; i++) {
                        final SoniaServiceExtension asked = i % 2 == 0 ? replicaA : replicaB;
                        final SoniaServiceExtension other = asked == replicaA ? replicaB : replicaA;
                        final EvaOsServiceBlockingStub user = asked.stub(
                                EvaOsServiceGrpc::newBlockingStub, asked.token("acme", name, Role.ROLE_USER));
                        final AuthorizeActionRequest touch = AuthorizeActionRequest.newBuilder()
                                .setToolName("shell.run")
                                .setArguments(ApprovalFlowTest.argv("touch", name + '-' + i + ".txt")).build();
                        final String id = user.authorizeAction(touch).getApproval().getApprovalId();
                        assertThat(admin(other).getApproval(GetApprovalRequest.newBuilder().setApprovalId(id).build())
                                               .getState()).isEqualTo(ApprovalState.APPROVAL_STATE_PENDING);
                        admin(other).decideApproval(ApprovalTenancyTest.approve(id));
                        assertThat(user.getApproval(GetApprovalRequest.newBuilder().setApprovalId(id).build())
                                       .getState()).isEqualTo(ApprovalState.APPROVAL_STATE_APPROVED);
                        final AuthorizeActionRequest withId = touch.toBuilder().setApprovalId(id).build();
                        final List<SoniaServiceExtension> previewAndRun = List.of(asked, i % 4 < 2 ? other : asked);
                        for (int step = 0; step < 2; step++) {
                            final SoniaServiceExtension replica = previewAndRun.get(step);
                            final EvaOsServiceBlockingStub caller = replica.stub(
                                    EvaOsServiceGrpc::newBlockingStub, replica.token("acme", name, Role.ROLE_USER));
                            final boolean execute = step == 1;
                            final var answer = caller.authorizeAction(withId.toBuilder().setExecute(execute).build());
                            assertThat(answer.getVerdict()).as(name + " round " + i + ": " + answer.getReason())
                                                           .isEqualTo(Verdict.VERDICT_ALLOW);
                            assertThat(answer.getApproval().getApprovalId()).isEqualTo(id);
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> user : users) {
                user.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void trainingModeSetThroughOneReplicaHoldsAtTheOther() throws Exception {
        admin(replicaA).enableTraining(EnableTrainingRequest.newBuilder().setReason("nightly fine-tune").build());
        try {
            // In PostgreSQL, not in the SQLite file the two replicas' common home would also share.
            assertThat(sql("SELECT count(*) FROM training_locks WHERE tenant = 'acme' AND reason = 'nightly fine-tune'"))
                    .isEqualTo(1);
            assertThatThrownBy(() -> user(replicaB).authorizeAction(
                    ApprovalTenancyTest.mkdir("t-" + UUID.randomUUID(), "s").build()))
                    .satisfies(e -> assertThat(Status.fromThrowable(e).getCode())
                            .isEqualTo(Status.Code.FAILED_PRECONDITION));
        } finally {
            admin(replicaB).disableTraining(DisableTrainingRequest.getDefaultInstance());
        }
        assertThat(admin(replicaA).getTrainingStatus(GetTrainingStatusRequest.getDefaultInstance()).getEnabled())
                .isFalse();
    }

    @Test
    void anUnreachablePostgresFailsTheStartNamingItAndNotThePassword() {
        final SoniaServiceExtension evaos = SoniaServiceExtension.of(new EvaOsModule())
                .stackConfig(EmbeddedPostgresExtension.stackConfig("jdbc:postgresql://127.0.0.1:1/sonia"));
        assertThatThrownBy(evaos::start)
                .hasMessageContaining("store.engine is postgres, but jdbc:postgresql://127.0.0.1:1/sonia cannot be reached")
                .hasMessageNotContaining("s3cret");
        evaos.close();
    }

    /** The first column of the first row of {@code query}, run on the test's database. */
    private static long sql(String query) throws Exception {
        try (Connection c = postgres.connection();
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(query)) {
            rs.next();
            return rs.getObject(1) instanceof Number n ? n.longValue() : 0;
        }
    }

    private static boolean seen(List<WatchApprovalsResponse> watcher, String id) {
        return watcher.stream().anyMatch(w -> w.getApproval().getApprovalId().equals(id));
    }

    private static List<ApprovalChange> changes(List<WatchApprovalsResponse> watcher, String id) {
        return watcher.stream().filter(w -> w.getApproval().getApprovalId().equals(id))
                      .map(WatchApprovalsResponse::getChange).toList();
    }

    private static EvaOsServiceBlockingStub user(SoniaServiceExtension replica) {
        return replica.stub(EvaOsServiceGrpc::newBlockingStub, replica.token("acme", "alice", Role.ROLE_USER));
    }

    private static EvaOsServiceBlockingStub admin(SoniaServiceExtension replica) {
        return replica.stub(EvaOsServiceGrpc::newBlockingStub, replica.token("acme", "root", Role.ROLE_ADMIN));
    }
}
