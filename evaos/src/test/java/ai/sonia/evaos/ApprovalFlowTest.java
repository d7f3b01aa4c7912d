package ai.sonia.evaos;

import static ai.sonia.runtime.testing.StatusDetails.errorInfo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;

import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.common.AggregatedHttpResponse;

import ai.sonia.evaos.v1.Approval;
import ai.sonia.evaos.v1.ApprovalChange;
import ai.sonia.evaos.v1.ApprovalState;
import ai.sonia.evaos.v1.AuthorizeActionRequest;
import ai.sonia.evaos.v1.AuthorizeActionResponse;
import ai.sonia.evaos.v1.DecideApprovalRequest;
import ai.sonia.evaos.v1.EvaOsServiceGrpc;
import ai.sonia.evaos.v1.EvaOsServiceGrpc.EvaOsServiceBlockingStub;
import ai.sonia.evaos.v1.GetApprovalRequest;
import ai.sonia.evaos.v1.GetStackHealthRequest;
import ai.sonia.evaos.v1.GetStackHealthResponse;
import ai.sonia.evaos.v1.GrantScope;
import ai.sonia.evaos.v1.ListApprovalsRequest;
import ai.sonia.evaos.v1.Verdict;
import ai.sonia.evaos.v1.WatchApprovalsRequest;
import ai.sonia.evaos.v1.WatchApprovalsResponse;
import ai.sonia.runtime.testing.Rest;
import ai.sonia.runtime.testing.SoniaServiceExtension;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;

/** Approvals through the real gRPC API: binding, grants, refusals, expiry, races, the watch stream. */
class ApprovalFlowTest {

    @RegisterExtension
    static final SoniaServiceExtension evaos = SoniaServiceExtension.of(new EvaOsModule());
    private static EvaOsServiceBlockingStub stub;

    @BeforeAll
    static void start() {
        stub = evaos.stub(EvaOsServiceGrpc::newBlockingStub, evaos.adminToken());
    }

    static Struct argv(String... args) {
        final ListValue.Builder list = ListValue.newBuilder();
        for (String a : args) {
            list.addValues(Value.newBuilder().setStringValue(a));
        }
        return Struct.newBuilder().putFields("argv", Value.newBuilder().setListValue(list).build()).build();
    }

    static AuthorizeActionRequest.Builder action(Struct arguments, String session) {
        return AuthorizeActionRequest.newBuilder().setToolName("shell.run").setArguments(arguments)
                                     .setSessionId(session);
    }

    static Approval approve(String id, GrantScope scope, String pattern, long ttl) {
        return stub.decideApproval(DecideApprovalRequest.newBuilder().setApprovalId(id).setApprove(true)
                                                        .setGrantScope(scope).setPattern(pattern)
                                                        .setTtlSeconds(ttl).build());
    }

    @Test
    void lowRiskRunsAndCriticalIsDeniedWithoutAnApproval() {
        final AuthorizeActionResponse ls = stub.authorizeAction(action(argv("ls"), "s").build());
        assertThat(ls.getVerdict()).isEqualTo(Verdict.VERDICT_ALLOW);
        assertThat(ls.hasApproval()).isFalse();
        final AuthorizeActionResponse rm = stub.authorizeAction(action(argv("rm", "-rf", "/"), "s").build());
        assertThat(rm.getVerdict()).isEqualTo(Verdict.VERDICT_DENY);
        assertThat(rm.getRule()).isEqualTo("shell.run/destructive-pattern");
        assertThat(rm.hasApproval()).isFalse();
        final AuthorizeActionResponse unknown = stub.authorizeAction(
                AuthorizeActionRequest.newBuilder().setToolName("disk.format").build());
        assertThat(unknown.getVerdict()).isEqualTo(Verdict.VERDICT_DENY);
        assertThat(unknown.getRule()).isEqualTo("default/unknown-tool");
    }

    @Test
    void onceGrantIsBoundToTheExactActionAndUsedOnce() {
        final AuthorizeActionResponse first = stub.authorizeAction(action(argv("mkdir", "once-a"), "s1").build());
        assertThat(first.getVerdict()).isEqualTo(Verdict.VERDICT_REQUIRE_APPROVAL);
        final String id = first.getApproval().getApprovalId();
        // Asking again does not create a second prompt.
        assertThat(stub.authorizeAction(action(argv("mkdir", "once-a"), "s1").build()).getApproval().getApprovalId())
                .isEqualTo(id);
        approve(id, GrantScope.GRANT_SCOPE_ONCE, "", 0);

        // Changed arguments with the old approval id: denied, and they need their own approval.
        final AuthorizeActionResponse changed = stub.authorizeAction(
                action(argv("mkdir", "once-b"), "s1").setApprovalId(id).setExecute(true).build());
        assertThat(changed.getVerdict()).isEqualTo(Verdict.VERDICT_DENY);
        assertThat(changed.getActionHash()).isNotEqualTo(first.getActionHash());
        final AuthorizeActionResponse changedAlone = stub.authorizeAction(action(argv("mkdir", "once-b"), "s1").build());
        assertThat(changedAlone.getVerdict()).isEqualTo(Verdict.VERDICT_REQUIRE_APPROVAL);
        assertThat(changedAlone.getApproval().getApprovalId()).isNotEqualTo(id);

        // A preview does not use the grant; the execution does, exactly once.
        assertThat(stub.authorizeAction(action(argv("mkdir", "once-a"), "s1").build()).getVerdict())
                .isEqualTo(Verdict.VERDICT_ALLOW);
        final AuthorizeActionResponse run = stub.authorizeAction(
                action(argv("mkdir", "once-a"), "s1").setApprovalId(id).setExecute(true).build());
        assertThat(run.getVerdict()).isEqualTo(Verdict.VERDICT_ALLOW);
        assertThat(run.getApproval().getUseCount()).isEqualTo(1);
        final AuthorizeActionResponse again = stub.authorizeAction(
                action(argv("mkdir", "once-a"), "s1").setApprovalId(id).setExecute(true).build());
        assertThat(again.getVerdict()).isEqualTo(Verdict.VERDICT_REQUIRE_APPROVAL);
        assertThat(again.getApproval().getApprovalId()).isNotEqualTo(id);
    }

    @Test
    void refusalIsRememberedWithoutANewPrompt() {
        final String id = stub.authorizeAction(action(argv("mkdir", "refused"), "s2").build())
                              .getApproval().getApprovalId();
        stub.decideApproval(DecideApprovalRequest.newBuilder().setApprovalId(id).setApprove(false)
                                                 .setReason("no").build());
        final int pendingBefore = pending().size();
        final AuthorizeActionResponse again = stub.authorizeAction(action(argv("mkdir", "refused"), "s2").build());
        assertThat(again.getVerdict()).isEqualTo(Verdict.VERDICT_DENY);
        assertThat(again.getApproval().getApprovalId()).isEqualTo(id);
        assertThat(again.getReason()).contains("remembered");
        assertThat(pending()).hasSize(pendingBefore);
    }

    @Test
    void sessionGrantCoversTheSessionOnly() {
        final String id = stub.authorizeAction(action(argv("mkdir", "sess"), "s3").build())
                              .getApproval().getApprovalId();
        approve(id, GrantScope.GRANT_SCOPE_SESSION, "", 0);
        for (int i = 0; i < 3; i++) {
            assertThat(stub.authorizeAction(action(argv("mkdir", "sess"), "s3").setExecute(true).build())
                           .getVerdict()).isEqualTo(Verdict.VERDICT_ALLOW);
        }
        assertThat(stub.authorizeAction(action(argv("mkdir", "sess"), "other").setExecute(true).build())
                       .getVerdict()).isEqualTo(Verdict.VERDICT_REQUIRE_APPROVAL);
    }

    @Test
    void patternGrantCoversMatchingArgumentsButNeverCriticalOnes() {
        final String id = stub.authorizeAction(action(argv("touch", "p1.txt"), "s4").build())
                              .getApproval().getApprovalId();
        assertThatThrownBy(() -> approve(id, GrantScope.GRANT_SCOPE_PATTERN, "{\"argv\":[\"mkdir\",*]}", 0))
                .satisfies(e -> assertThat(code(e)).isEqualTo(Status.Code.INVALID_ARGUMENT));
        approve(id, GrantScope.GRANT_SCOPE_PATTERN, "{\"argv\":[\"touch\",\"*.txt\"]}", 0);
        assertThat(stub.authorizeAction(action(argv("touch", "p2.txt"), "x").setExecute(true).build()).getVerdict())
                .isEqualTo(Verdict.VERDICT_ALLOW);
        assertThat(stub.authorizeAction(action(argv("touch", "p2.sh"), "x").build()).getVerdict())
                .isEqualTo(Verdict.VERDICT_REQUIRE_APPROVAL);
        // "*" stays inside one argument: extra arguments cannot ride on the grant.
        assertThat(stub.authorizeAction(action(argv("touch", "p3.txt", "--", "x.txt"), "x").build()).getVerdict())
                .isEqualTo(Verdict.VERDICT_REQUIRE_APPROVAL);
        assertThat(stub.authorizeAction(action(argv("touch", "$(id).txt"), "x").build()).getVerdict())
                .isEqualTo(Verdict.VERDICT_DENY);
    }

    @Test
    void concurrentDecisionsOnOneApprovalHaveExactlyOneWinner() throws Exception {
        final String id = stub.authorizeAction(action(argv("mkdir", "race"), "s5").build())
                              .getApproval().getApprovalId();
        final ExecutorService pool = Executors.newFixedThreadPool(8);
        final CountDownLatch go = new CountDownLatch(1);
        final List<Future<Status.Code>> results = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            final boolean approve = i % 2 == 0;
            results.add(pool.submit(() -> {
                go.await();
                try {
                    stub.decideApproval(DecideApprovalRequest.newBuilder().setApprovalId(id).setApprove(approve)
                                                             .build());
                    return Status.Code.OK;
                } catch (StatusRuntimeException e) {
                    return e.getStatus().getCode();
                }
            }));
        }
        go.countDown();
        final List<Status.Code> codes = new ArrayList<>();
        for (Future<Status.Code> f : results) {
            codes.add(f.get());
        }
        pool.shutdown();
        assertThat(codes).filteredOn(c -> c == Status.Code.OK).hasSize(1);
        assertThat(codes).filteredOn(c -> c == Status.Code.FAILED_PRECONDITION).hasSize(7);
    }

    @Test
    void pendingApprovalsAndGrantsExpire() {
        try (var shortLived = SoniaServiceExtension.of(new EvaOsModule()).config("{\"pendingTtlSeconds\":1}").start()) {
            final EvaOsServiceBlockingStub s = shortLived.stub(EvaOsServiceGrpc::newBlockingStub, shortLived.adminToken());
            final String id = s.authorizeAction(action(argv("mkdir", "late"), "s").build()).getApproval()
                               .getApprovalId();
            await().atMost(Duration.ofSeconds(10)).until(
                    () -> s.getApproval(GetApprovalRequest.newBuilder().setApprovalId(id).build()).getState()
                          == ApprovalState.APPROVAL_STATE_EXPIRED);
            assertThatThrownBy(() -> s.decideApproval(DecideApprovalRequest.newBuilder().setApprovalId(id)
                                                                           .setApprove(true).build()))
                    .satisfies(e -> assertThat(code(e)).isEqualTo(Status.Code.FAILED_PRECONDITION));

            final String next = s.authorizeAction(action(argv("mkdir", "late"), "s").build()).getApproval()
                                 .getApprovalId();
            assertThat(next).isNotEqualTo(id);
            s.decideApproval(DecideApprovalRequest.newBuilder().setApprovalId(next).setApprove(true)
                                                  .setGrantScope(GrantScope.GRANT_SCOPE_SESSION).setTtlSeconds(1)
                                                  .build());
            assertThat(s.authorizeAction(action(argv("mkdir", "late"), "s").build()).getVerdict())
                    .isEqualTo(Verdict.VERDICT_ALLOW);
            await().atMost(Duration.ofSeconds(10)).until(
                    () -> s.authorizeAction(action(argv("mkdir", "late"), "s").build()).getVerdict()
                          == Verdict.VERDICT_REQUIRE_APPROVAL);
        }
    }

    @Test
    void watchSendsTheSnapshotThenEachChange() {
        final String existing = stub.authorizeAction(action(argv("mkdir", "watch-a"), "w").build())
                                    .getApproval().getApprovalId();
        final List<WatchApprovalsResponse> seen = new CopyOnWriteArrayList<>();
        evaos.stub(EvaOsServiceGrpc::newStub, evaos.adminToken()).watchApprovals(WatchApprovalsRequest.getDefaultInstance(), new StreamObserver<>() {
            @Override
            public void onNext(WatchApprovalsResponse value) {
                seen.add(value);
            }

            @Override
            public void onError(Throwable t) {}

            @Override
            public void onCompleted() {}
        });
        await().atMost(Duration.ofSeconds(10)).until(() -> seen.stream().anyMatch(
                r -> r.getChange() == ApprovalChange.APPROVAL_CHANGE_SNAPSHOT && r.getApproval().getApprovalId().equals(existing)));
        final String created = stub.authorizeAction(action(argv("mkdir", "watch-b"), "w").build())
                                   .getApproval().getApprovalId();
        approve(created, GrantScope.GRANT_SCOPE_ONCE, "", 0);
        await().atMost(Duration.ofSeconds(10)).until(() -> seen.stream().anyMatch(
                r -> r.getChange() == ApprovalChange.APPROVAL_CHANGE_DECIDED && r.getApproval().getApprovalId().equals(created)
                     && r.getApproval().getState() == ApprovalState.APPROVAL_STATE_APPROVED));
        assertThat(seen).anyMatch(r -> r.getChange() == ApprovalChange.APPROVAL_CHANGE_CREATED
                                       && r.getApproval().getApprovalId().equals(created));
    }

    @Test
    void aRetriedExecuteWithTheSameRequestIdGetsTheFirstAnswerAndUsesTheGrantOnce() {
        final String id = stub.authorizeAction(action(argv("mkdir", "retried"), "r").build())
                              .getApproval().getApprovalId();
        stub.decideApproval(DecideApprovalRequest.newBuilder().setApprovalId(id).setApprove(true)
                                                 .setGrantScope(GrantScope.GRANT_SCOPE_ONCE).build());
        final AuthorizeActionRequest run = action(argv("mkdir", "retried"), "r").setExecute(true)
                                                                                .setRequestId("run-1").build();
        final AuthorizeActionResponse first = stub.authorizeAction(run);
        assertThat(first.getVerdict()).isEqualTo(Verdict.VERDICT_ALLOW);
        assertThat(stub.authorizeAction(run)).isEqualTo(first);
        // The ONCE grant was used once: a new request needs a new approval.
        assertThat(stub.authorizeAction(run.toBuilder().setRequestId("run-2").build()).getVerdict())
                .isEqualTo(Verdict.VERDICT_REQUIRE_APPROVAL);
    }

    @Test
    void badRequestsGetClearErrors() {
        assertThatThrownBy(() -> stub.getApproval(GetApprovalRequest.newBuilder().setApprovalId("nope").build()))
                .satisfies(e -> assertThat(code(e)).isEqualTo(Status.Code.NOT_FOUND));
        assertThatThrownBy(() -> stub.authorizeAction(AuthorizeActionRequest.getDefaultInstance()))
                .satisfies(e -> {
                    assertThat(code(e)).isEqualTo(Status.Code.INVALID_ARGUMENT);
                    assertThat(errorInfo(e).getMetadataMap()).containsEntry("field", "tool_name");
                });
        assertThatThrownBy(() -> stub.listApprovals(ListApprovalsRequest.newBuilder().setPageToken("x").build()))
                .satisfies(e -> assertThat(errorInfo(e).getMetadataMap()).containsEntry("field", "page_token"));
        assertThatThrownBy(() -> stub.decideApproval(DecideApprovalRequest.newBuilder().setApprovalId("nope")
                                                                          .setTtlSeconds(-1).build()))
                .satisfies(e -> assertThat(errorInfo(e).getMetadataMap()).containsEntry("field", "ttl_seconds"));
    }

    @Test
    void listPagesNewestFirstAndApprovalsSurviveARestart() {
        final String id = stub.authorizeAction(action(argv("mkdir", "persist"), "p").build())
                              .getApproval().getApprovalId();
        final var page = stub.listApprovals(ListApprovalsRequest.newBuilder().setPageSize(1).build());
        assertThat(page.getApprovalsList()).hasSize(1);
        assertThat(page.getNextPageToken()).isNotEmpty();
        evaos.restart();
        assertThat(stub.getApproval(GetApprovalRequest.newBuilder().setApprovalId(id).build()).getState())
                .isEqualTo(ApprovalState.APPROVAL_STATE_PENDING);
    }

    @Test
    void restSurfaceAnswersWithTheEnvelope() {
        final WebClient rest = evaos.rest(evaos.adminToken());
        final AggregatedHttpResponse allowed = Rest.postJson(
                rest, "/v1/actions:authorize", "{\"tool_name\":\"shell.run\",\"arguments\":{\"argv\":[\"ls\"]}}");
        assertThat(allowed.status().code()).isEqualTo(200);
        assertThat(allowed.contentUtf8()).contains("VERDICT_ALLOW").contains("shell.run/read-only-program");
        final AggregatedHttpResponse missing = rest.get("/v1/approvals/nope").aggregate().join();
        assertThat(missing.status().code()).isEqualTo(404);
        assertThat(missing.contentUtf8()).contains("NOT_FOUND");
    }

    @Test
    void stackHealthProbesEveryOtherService() {
        final GetStackHealthResponse health = stub.getStackHealth(GetStackHealthRequest.getDefaultInstance());
        assertThat(health.getServicesList()).extracting("name")
                                            .containsExactlyInAnyOrder("gateway", "router", "memory", "pipecat",
                                                                       "openclaw");
    }

    private static List<Approval> pending() {
        return stub.listApprovals(ListApprovalsRequest.newBuilder().setState(ApprovalState.APPROVAL_STATE_PENDING)
                                                      .setPageSize(500).build()).getApprovalsList();
    }

    static Status.Code code(Throwable e) {
        return ((StatusRuntimeException) e).getStatus().getCode();
    }
}
