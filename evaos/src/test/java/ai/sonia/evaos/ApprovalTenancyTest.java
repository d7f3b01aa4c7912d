package ai.sonia.evaos;

import static ai.sonia.evaos.ApprovalFlowTest.argv;
import static ai.sonia.evaos.ApprovalFlowTest.code;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;

import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.RequestHeaders;

import ai.sonia.common.v1.Role;
import ai.sonia.evaos.v1.Approval;
import ai.sonia.evaos.v1.ApprovalChange;
import ai.sonia.evaos.v1.AuthorizeActionRequest;
import ai.sonia.evaos.v1.AuthorizeActionResponse;
import ai.sonia.evaos.v1.DecideApprovalRequest;
import ai.sonia.evaos.v1.EvaOsServiceGrpc;
import ai.sonia.evaos.v1.EvaOsServiceGrpc.EvaOsServiceBlockingStub;
import ai.sonia.evaos.v1.GetApprovalRequest;
import ai.sonia.evaos.v1.GrantScope;
import ai.sonia.evaos.v1.ListApprovalsRequest;
import ai.sonia.evaos.v1.Verdict;
import ai.sonia.evaos.v1.WatchApprovalsResponse;
import ai.sonia.options.v1.RiskLevel;
import ai.sonia.runtime.auth.Principal;
import ai.sonia.runtime.auth.ServiceCredentials;
import ai.sonia.runtime.testing.SoniaServiceExtension;
import io.grpc.Status;

/**
 * Approvals belong to the requester's tenant: another tenant never sees, streams, decides or uses them,
 * by gRPC or REST; only an admin decides a HIGH one. (Between users of one tenant: ApprovalOwnershipTest.)
 */
class ApprovalTenancyTest {

    @RegisterExtension
    static final SoniaServiceExtension evaos = SoniaServiceExtension.of(new EvaOsModule());
    private static String aliceToken;
    private static String carolToken;
    private static String acmeAdminToken;
    private static String bobToken;
    private static EvaOsServiceBlockingStub alice;
    private static EvaOsServiceBlockingStub carol;
    private static EvaOsServiceBlockingStub acmeAdmin;
    private static EvaOsServiceBlockingStub bob;

    @BeforeAll
    static void start() {
        aliceToken = evaos.token("acme", "alice", Role.ROLE_USER);
        carolToken = evaos.token("acme", "carol", Role.ROLE_USER);
        acmeAdminToken = evaos.token("acme", "root", Role.ROLE_ADMIN);
        bobToken = evaos.token("globex", "bob", Role.ROLE_ADMIN);
        alice = evaos.stub(EvaOsServiceGrpc::newBlockingStub, aliceToken);
        carol = evaos.stub(EvaOsServiceGrpc::newBlockingStub, carolToken);
        acmeAdmin = evaos.stub(EvaOsServiceGrpc::newBlockingStub, acmeAdminToken);
        bob = evaos.stub(EvaOsServiceGrpc::newBlockingStub, bobToken);
    }

    /** file.write: MEDIUM risk by contract. */
    static AuthorizeActionRequest.Builder write(String path, String session) {
        return AuthorizeActionRequest.newBuilder().setToolName("file.write").setSessionId(session).setArguments(
                Struct.newBuilder().putFields("path", Value.newBuilder().setStringValue(path).build())
                      .putFields("content", Value.newBuilder().setStringValue("x").build()));
    }

    /** shell.run mkdir: HIGH risk. */
    static AuthorizeActionRequest.Builder mkdir(String dir, String session) {
        return AuthorizeActionRequest.newBuilder().setToolName("shell.run").setSessionId(session)
                                     .setArguments(argv("mkdir", dir));
    }

    static DecideApprovalRequest approve(String id) {
        return DecideApprovalRequest.newBuilder().setApprovalId(id).setApprove(true).build();
    }

    @Test
    void theApprovalRecordsThePrincipalNeverTheRequestField() {
        final Approval a = alice.authorizeAction(write("who.txt", "s").setPrincipal("globex/bob").build())
                                .getApproval();
        assertThat(a.getTenant()).isEqualTo("acme");
        assertThat(a.getRequester()).isEqualTo("alice");
        assertThat(a.getRequestedBy()).isEqualTo("acme/alice");
        assertThat(a.getRisk()).isEqualTo(RiskLevel.RISK_LEVEL_MEDIUM);
    }

    @Test
    void anotherTenantCannotGetListOrDecideOverGrpc() {
        final String id = alice.authorizeAction(write("hidden.txt", "s").build()).getApproval().getApprovalId();
        assertThatThrownBy(() -> bob.getApproval(GetApprovalRequest.newBuilder().setApprovalId(id).build()))
                .satisfies(e -> assertThat(code(e)).isEqualTo(Status.Code.NOT_FOUND));
        assertThatThrownBy(() -> bob.decideApproval(approve(id)))
                .satisfies(e -> assertThat(code(e)).isEqualTo(Status.Code.NOT_FOUND));
        assertThat(bob.listApprovals(ListApprovalsRequest.newBuilder().setPageSize(500).build())
                      .getApprovalsList()).noneMatch(a -> a.getTenant().equals("acme"));
        assertThat(acmeAdmin.listApprovals(ListApprovalsRequest.newBuilder().setPageSize(500).build())
                            .getApprovalsList()).anyMatch(a -> a.getApprovalId().equals(id))
                                                .allMatch(a -> a.getTenant().equals("acme"));
        // Still pending: bob's attempt changed nothing.
        assertThat(alice.getApproval(GetApprovalRequest.newBuilder().setApprovalId(id).build()).getDecidedBy())
                .isEmpty();
    }

    @Test
    void anotherTenantCannotGetListOrDecideOverRest() {
        final String id = alice.authorizeAction(write("hidden-rest.txt", "s").build()).getApproval()
                               .getApprovalId();
        final WebClient asBob = evaos.rest(bobToken);
        final AggregatedHttpResponse get = asBob.get("/v1/approvals/" + id).aggregate().join();
        assertThat(get.status().code()).isEqualTo(404);
        assertThat(get.contentUtf8()).contains("NOT_FOUND");
        final AggregatedHttpResponse decide = asBob.execute(
                RequestHeaders.builder(HttpMethod.POST, "/v1/approvals/" + id + ":decide")
                              .contentType(MediaType.JSON_UTF_8).build(), "{\"approve\":true}").aggregate().join();
        assertThat(decide.status().code()).isEqualTo(404);
        assertThat(asBob.get("/v1/approvals?page_size=500").aggregate().join().contentUtf8()).doesNotContain(id);
        assertThat(evaos.rest(aliceToken).get("/v1/approvals/" + id).aggregate().join().status().code())
                .isEqualTo(200);
    }

    @Test
    void anotherTenantsApprovalsAreNeverStreamed() {
        final String before = alice.authorizeAction(write("watched-before.txt", "w").build()).getApproval()
                                   .getApprovalId();
        final String bobsBefore = bob.authorizeAction(write("bobs-before.txt", "w").build()).getApproval()
                                     .getApprovalId();
        final List<WatchApprovalsResponse> bobSees = watch(bobToken);
        final List<WatchApprovalsResponse> acmeSees = watch(acmeAdminToken);
        // Both watches are live once their snapshots arrived.
        await().atMost(Duration.ofSeconds(10)).until(() -> bobSees.stream().anyMatch(
                r -> r.getApproval().getApprovalId().equals(bobsBefore)));
        await().atMost(Duration.ofSeconds(10)).until(() -> acmeSees.stream().anyMatch(
                r -> r.getApproval().getApprovalId().equals(before)));
        final String during = alice.authorizeAction(write("watched-during.txt", "w").build()).getApproval()
                                   .getApprovalId();
        acmeAdmin.decideApproval(approve(during));
        // Events reach each watcher in the order they happen: once bob sees his own tenant's last event,
        // acme's earlier ones would have arrived too.
        final String own = bob.authorizeAction(write("bobs.txt", "w").build()).getApproval().getApprovalId();
        await().atMost(Duration.ofSeconds(10)).until(() -> bobSees.stream().anyMatch(
                r -> r.getApproval().getApprovalId().equals(own)));
        await().atMost(Duration.ofSeconds(10)).until(() -> acmeSees.stream().anyMatch(
                r -> r.getChange() == ApprovalChange.APPROVAL_CHANGE_DECIDED && r.getApproval().getApprovalId().equals(during)));
        assertThat(bobSees).allMatch(r -> r.getApproval().getTenant().equals("globex"));
        assertThat(acmeSees).anyMatch(r -> r.getChange() == ApprovalChange.APPROVAL_CHANGE_SNAPSHOT
                                           && r.getApproval().getApprovalId().equals(before))
                            .allMatch(r -> r.getApproval().getTenant().equals("acme"));
    }

    @Test
    void onlyAnAdminDecidesAHighRiskApproval() {
        final Approval high = alice.authorizeAction(mkdir("high", "s").build()).getApproval();
        assertThat(high.getRisk()).isEqualTo(RiskLevel.RISK_LEVEL_HIGH);
        assertThatThrownBy(() -> alice.decideApproval(approve(high.getApprovalId())))
                .satisfies(e -> assertThat(code(e)).isEqualTo(Status.Code.PERMISSION_DENIED));
        final AggregatedHttpResponse rest = evaos.rest(aliceToken).execute(
                RequestHeaders.builder(HttpMethod.POST, "/v1/approvals/" + high.getApprovalId() + ":decide")
                              .contentType(MediaType.JSON_UTF_8).build(), "{\"approve\":true}").aggregate().join();
        assertThat(rest.status().code()).isEqualTo(403);
        assertThat(rest.contentUtf8()).contains("PERMISSION_DENIED");
        // Another tenant's admin is no admin here.
        assertThatThrownBy(() -> bob.decideApproval(approve(high.getApprovalId())))
                .satisfies(e -> assertThat(code(e)).isEqualTo(Status.Code.NOT_FOUND));
        final Approval decided = acmeAdmin.decideApproval(approve(high.getApprovalId()));
        assertThat(decided.getDecidedBy()).isEqualTo("acme/root");
        assertThat(alice.authorizeAction(mkdir("high", "s").setExecute(true).build()).getVerdict())
                .isEqualTo(Verdict.VERDICT_ALLOW);
    }

    @Test
    void byDefaultAPlainUserDecidesNoneOfTheirOwnMediumApprovals() {
        final String id = alice.authorizeAction(write("mine.txt", "s").build()).getApproval().getApprovalId();
        // Carol, of the same tenant, cannot even find it.
        assertThatThrownBy(() -> carol.decideApproval(approve(id)))
                .satisfies(e -> assertThat(code(e)).isEqualTo(Status.Code.NOT_FOUND));
        assertThatThrownBy(() -> alice.decideApproval(approve(id)))
                .satisfies(e -> assertThat(code(e)).isEqualTo(Status.Code.PERMISSION_DENIED));
        final Approval decided = acmeAdmin.decideApproval(approve(id));
        assertThat(decided.getDecidedBy()).isEqualTo("acme/root");
        assertThatThrownBy(() -> carol.getApproval(GetApprovalRequest.newBuilder().setApprovalId(id).build()))
                .satisfies(e -> assertThat(code(e)).isEqualTo(Status.Code.NOT_FOUND));
    }

    @Test
    void anotherTenantCannotUseAGrant() {
        // ONCE: bob presents acme's approval id for the very same action.
        final AuthorizeActionResponse asked = alice.authorizeAction(write("grant.txt", "shared").build());
        final String once = asked.getApproval().getApprovalId();
        acmeAdmin.decideApproval(approve(once));
        final AuthorizeActionResponse stolen = bob.authorizeAction(
                write("grant.txt", "shared").setApprovalId(once).setExecute(true).build());
        assertThat(stolen.getVerdict()).isEqualTo(Verdict.VERDICT_REQUIRE_APPROVAL);
        assertThat(stolen.getApproval().getApprovalId()).isNotEqualTo(once);
        assertThat(stolen.getApproval().getTenant()).isEqualTo("globex");
        assertThat(stolen.getActionHash()).isNotEqualTo(asked.getActionHash());

        // SESSION: the same session id in another tenant is another session.
        final String session = alice.authorizeAction(write("session.txt", "shared").build()).getApproval()
                                    .getApprovalId();
        acmeAdmin.decideApproval(approve(session).toBuilder().setGrantScope(GrantScope.GRANT_SCOPE_SESSION).build());
        assertThat(bob.authorizeAction(write("session.txt", "shared").setExecute(true).build()).getVerdict())
                .isEqualTo(Verdict.VERDICT_REQUIRE_APPROVAL);

        // PATTERN: matching arguments in another tenant are not covered.
        final String pattern = alice.authorizeAction(write("p1.log", "p").build()).getApproval().getApprovalId();
        acmeAdmin.decideApproval(approve(pattern).toBuilder().setGrantScope(GrantScope.GRANT_SCOPE_PATTERN)
                                                 .setPattern("{\"content\":\"x\",\"path\":\"*.log\"}").build());
        assertThat(bob.authorizeAction(write("p2.log", "p").setExecute(true).build()).getVerdict())
                .isEqualTo(Verdict.VERDICT_REQUIRE_APPROVAL);

        // ...while acme's own actions still use all three.
        assertThat(alice.authorizeAction(write("grant.txt", "shared").setApprovalId(once).setExecute(true).build())
                        .getVerdict()).isEqualTo(Verdict.VERDICT_ALLOW);
        assertThat(alice.authorizeAction(write("session.txt", "shared").setExecute(true).build()).getVerdict())
                .isEqualTo(Verdict.VERDICT_ALLOW);
        assertThat(alice.authorizeAction(write("p2.log", "p").setExecute(true).build()).getVerdict())
                .isEqualTo(Verdict.VERDICT_ALLOW);
    }

    @Test
    void aServiceActingForItselfReadsEveryTenantButNeitherAsksNorDecides() {
        final String id = alice.authorizeAction(write("service.txt", "s").build()).getApproval().getApprovalId();
        final EvaOsServiceBlockingStub service = evaos.stub(EvaOsServiceGrpc::newBlockingStub,
                ServiceCredentials.of(evaos.stackConfig()).issue("gateway", Principal.service("gateway")));
        assertThat(service.getApproval(GetApprovalRequest.newBuilder().setApprovalId(id).build()).getTenant())
                .isEqualTo("acme");
        assertThatThrownBy(() -> service.decideApproval(approve(id)))
                .satisfies(e -> assertThat(code(e)).isEqualTo(Status.Code.PERMISSION_DENIED));
        assertThatThrownBy(() -> service.authorizeAction(write("x.txt", "s").build()))
                .satisfies(e -> assertThat(code(e)).isEqualTo(Status.Code.PERMISSION_DENIED));
    }

    @Test
    void withoutATokenNothingAnswers() {
        final AggregatedHttpResponse anonymous = WebClient.of("http://127.0.0.1:" + evaos.port())
                                                          .get("/v1/approvals").aggregate().join();
        assertThat(anonymous.status().code()).isEqualTo(401);
        assertThatThrownBy(() -> ai.sonia.evaos.v1.EvaOsServiceGrpc.newBlockingStub(evaos.channel())
                                                                   .listApprovals(ListApprovalsRequest.getDefaultInstance()))
                .satisfies(e -> assertThat(code(e)).isEqualTo(Status.Code.UNAUTHENTICATED));
        assertThatThrownBy(() -> evaos.stub(EvaOsServiceGrpc::newBlockingStub, evaos.userToken("acme", "x") + "tampered")
                                      .listApprovals(ListApprovalsRequest.getDefaultInstance()))
                .satisfies(e -> assertThat(code(e)).isEqualTo(Status.Code.UNAUTHENTICATED));
    }

    private static List<WatchApprovalsResponse> watch(String token) {
        final List<WatchApprovalsResponse> seen = new CopyOnWriteArrayList<>();
        ApprovalOwnershipTest.watch(evaos, token, seen, new java.util.concurrent.atomic.AtomicReference<>());
        return seen;
    }
}
