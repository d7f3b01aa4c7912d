package ai.sonia.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.google.protobuf.util.Timestamps;

import com.linecorp.armeria.client.WebClient;

import ai.sonia.evaos.v1.ApprovalState;
import ai.sonia.evaos.v1.Decision;
import ai.sonia.evaos.v1.EvaOsServiceGrpc;
import ai.sonia.evaos.v1.GrantScope;
import ai.sonia.evaos.v1.ListDecisionsRequest;
import ai.sonia.evaos.v1.ListDecisionsResponse;
import ai.sonia.gateway.v1.AuditEvent;
import ai.sonia.gateway.v1.AuditEventKind;
import ai.sonia.gateway.v1.AuditServiceGrpc;
import ai.sonia.gateway.v1.ListAuditEventsRequest;
import ai.sonia.gateway.v1.ListAuditEventsResponse;
import ai.sonia.options.v1.RiskLevel;
import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.Stack;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.auth.Principal;
import ai.sonia.runtime.client.SoniaChannels;
import ai.sonia.runtime.testing.Rest;
import ai.sonia.runtime.testing.TestCredentials;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;

/**
 * An admin's {@code GET /api/audit} holds the tenant's approval decisions (from EVA-OS's record) among the
 * gateway's own events, newest first; walking it page by page gives every event once, in the same order as
 * one big page. When EVA-OS cannot be asked, the page says it is degraded.
 */
class AuditDecisionsTest {

    private static final List<Decision> decisions = new CopyOnWriteArrayList<>();
    private static final List<String> tenantsAsked = new CopyOnWriteArrayList<>();

    private SoniaServer evaos;
    private SoniaServer gateway;
    private ManagedChannel channel;
    private StackConfig config;

    /** EVA-OS's ListDecisions over a list, as its contract says: newest first, below a decision id. */
    static final class Decisions extends EvaOsServiceGrpc.EvaOsServiceImplBase {
        @Override
        public void listDecisions(ListDecisionsRequest request, StreamObserver<ListDecisionsResponse> out) {
            tenantsAsked.add(Principal.current().tenantFor(request.getTenant()));
            final long below = request.getPageToken().isEmpty() ? Long.MAX_VALUE : Long.parseLong(request.getPageToken());
            final List<Decision> page = decisions.stream()
                                                 .filter(d -> Long.parseLong(d.getDecisionId()) < below)
                                                 .sorted(Comparator.comparingLong(
                                                         (Decision d) -> Long.parseLong(d.getDecisionId())).reversed())
                                                 .limit(request.getPageSize() + 1L).toList();
            final ListDecisionsResponse.Builder response = ListDecisionsResponse.newBuilder();
            page.stream().limit(request.getPageSize()).forEach(response::addDecisions);
            if (page.size() > request.getPageSize()) {
                response.setNextPageToken(page.get(request.getPageSize() - 1).getDecisionId());
            }
            out.onNext(response.build());
            out.onCompleted();
        }
    }

    @BeforeEach
    void start() {
        decisions.clear();
        tenantsAsked.clear();
        evaos = SoniaServer.builder(Stack.EVAOS, GatewayHomes.downstream("fake-evaos-audit", "evaos"))
                           .addService(new Decisions()).build().start();
        final Map<String, String> targets = new HashMap<>(AccountsTest.NOWHERE);
        targets.put("SONIA_EVAOS_TARGET", "127.0.0.1:" + evaos.port());
        config = GatewayHomes.gateway("audit", "{}", targets);
        gateway = new GatewayModule().newServer(config).start();
        channel = SoniaChannels.forTarget("127.0.0.1:" + gateway.port(), Stack.GATEWAY,
                                          TestCredentials.bearer(TestCredentials.adminToken(config)));
    }

    @AfterEach
    void stop() {
        SoniaChannels.close(channel);
        gateway.close();
        evaos.close();
    }

    @Test
    void decisionsAreMergedByTimeAndEveryPageWalkSeesEachEventOnce() throws Exception {
        final WebClient web = WebClient.of("http://127.0.0.1:" + gateway.port());
        final String password = java.nio.file.Files.readString(config.home().resolve("secrets/admin-password")).strip();
        for (String tried : List.of("wrong-password", password, password)) {
            Rest.postJson(web, "/api/auth/login", "{\"username\":\"admin\",\"password\":\"" + tried + "\"}");
        }
        final List<AuditEvent> own = list(1000).getEventsList();
        final long oldest = own.stream().mapToLong(e -> Timestamps.toMillis(e.getTime())).min().orElseThrow();
        final long newest = own.stream().mapToLong(e -> Timestamps.toMillis(e.getTime())).max().orElseThrow();
        decisions.add(decision(1, oldest - 3000, "alice", ApprovalState.APPROVAL_STATE_APPROVED, "file.write"));
        decisions.add(decision(2, oldest - 2000, "bob", ApprovalState.APPROVAL_STATE_DENIED, "shell.run"));
        decisions.add(decision(3, oldest - 1000, "alice", ApprovalState.APPROVAL_STATE_DENIED, "http.fetch"));
        decisions.add(decision(4, newest + 60_000, "carol", ApprovalState.APPROVAL_STATE_APPROVED, "file.delete"));

        final List<AuditEvent> all = list(1000).getEventsList();
        assertThat(all).hasSize(own.size() + 4);
        assertThat(all).extracting(e -> Timestamps.toMillis(e.getTime()))
                       .isSortedAccordingTo(Comparator.reverseOrder());
        final AuditEvent first = all.get(0);
        assertThat(first.getKind()).isEqualTo(AuditEventKind.AUDIT_EVENT_KIND_APPROVAL_DECISION);
        assertThat(first.getSuccess()).isTrue();
        assertThat(first.getActor()).isEqualTo("default/admin");
        assertThat(first.getUserId()).isEqualTo("carol");
        assertThat(first.getApproval().getApprovalId()).isEqualTo("ap-4");
        assertThat(first.getApproval().getRequestedBy()).isEqualTo("default/carol");
        assertThat(first.getApproval().getToolName()).isEqualTo("file.delete");
        assertThat(first.getApproval().getRisk()).isEqualTo(RiskLevel.RISK_LEVEL_HIGH);
        assertThat(first.getApproval().getState()).isEqualTo(ApprovalState.APPROVAL_STATE_APPROVED);
        assertThat(first.getApproval().getGrantScope()).isEqualTo(GrantScope.GRANT_SCOPE_ONCE);
        assertThat(first.getApproval().getReason()).isEqualTo("because 4");
        assertThat(all.get(all.size() - 1).getApproval().getApprovalId()).isEqualTo("ap-1");
        assertThat(tenantsAsked).containsOnly("default");

        for (int size : new int[] {1, 2, 3}) {
            final List<AuditEvent> walked = new ArrayList<>();
            String token = "";
            do {
                final ListAuditEventsResponse page = AuditServiceGrpc.newBlockingStub(channel).listAuditEvents(
                        ListAuditEventsRequest.newBuilder().setPageSize(size).setPageToken(token).build());
                assertThat(page.getEventsCount()).isLessThanOrEqualTo(size);
                assertThat(page.getDegradedList()).isEmpty();
                walked.addAll(page.getEventsList());
                token = page.getNextPageToken();
            } while (!token.isEmpty());
            assertThat(walked).as("page size %s", size).containsExactlyElementsOf(all);
        }
    }

    @Test
    void withoutEvaOsThePageHoldsTheGatewaysEventsAndSaysItIsDegraded() {
        decisions.add(decision(1, System.currentTimeMillis(), "alice", ApprovalState.APPROVAL_STATE_APPROVED, "x"));
        evaos.close();
        final ListAuditEventsResponse page = list(100);
        assertThat(page.getDegradedList()).containsExactly("evaos");
        assertThat(page.getEventsList()).noneMatch(
                e -> e.getKind() == AuditEventKind.AUDIT_EVENT_KIND_APPROVAL_DECISION);
    }

    private ListAuditEventsResponse list(int size) {
        return AuditServiceGrpc.newBlockingStub(channel).listAuditEvents(
                ListAuditEventsRequest.newBuilder().setPageSize(size).build());
    }

    private static Decision decision(long id, long timeMs, String requester, ApprovalState state, String tool) {
        return Decision.newBuilder().setDecisionId(String.valueOf(id)).setApprovalId("ap-" + id)
                       .setRequestedBy("default/" + requester).setDecidedBy("default/admin")
                       .setDecideTime(Timestamps.fromMillis(timeMs)).setState(state)
                       .setGrantScope(GrantScope.GRANT_SCOPE_ONCE).setRisk(RiskLevel.RISK_LEVEL_HIGH)
                       .setToolName(tool).setActionHash("h" + id).setReason("because " + id).build();
    }
}
