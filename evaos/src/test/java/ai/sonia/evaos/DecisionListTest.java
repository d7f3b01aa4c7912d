package ai.sonia.evaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import ai.sonia.common.v1.Role;
import ai.sonia.evaos.v1.ApprovalState;
import ai.sonia.evaos.v1.DecideApprovalRequest;
import ai.sonia.evaos.v1.Decision;
import ai.sonia.evaos.v1.EvaOsServiceGrpc;
import ai.sonia.evaos.v1.EvaOsServiceGrpc.EvaOsServiceBlockingStub;
import ai.sonia.evaos.v1.GrantScope;
import ai.sonia.evaos.v1.ListDecisionsRequest;
import ai.sonia.evaos.v1.ListDecisionsResponse;
import ai.sonia.runtime.testing.SoniaServiceExtension;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * {@code ListDecisions}: a tenant's approval decisions from the append-only record, newest first, for its
 * admins (the gateway's audit reads it); a plain user is refused, another tenant's decisions never show.
 */
class DecisionListTest {

    @RegisterExtension
    static final SoniaServiceExtension evaos = SoniaServiceExtension.of(new EvaOsModule());

    @Test
    void anAdminListsItsTenantsDecisionsNewestFirstPageByPage() {
        final EvaOsServiceBlockingStub user = evaos.stub(EvaOsServiceGrpc::newBlockingStub, evaos.token("acme", "ursula", Role.ROLE_USER));
        final EvaOsServiceBlockingStub admin = evaos.stub(EvaOsServiceGrpc::newBlockingStub, evaos.token("acme", "boss", Role.ROLE_ADMIN));
        final EvaOsServiceBlockingStub otherAdmin = evaos.stub(EvaOsServiceGrpc::newBlockingStub, evaos.token("globex", "boss", Role.ROLE_ADMIN));
        final List<String> ids = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            final String id = user.authorizeAction(ApprovalTenancyTest.write("d" + i + ".txt", "s").build())
                                  .getApproval().getApprovalId();
            admin.decideApproval(DecideApprovalRequest.newBuilder().setApprovalId(id).setApprove(i != 1)
                                                      .setGrantScope(GrantScope.GRANT_SCOPE_ONCE)
                                                      .setReason("reason " + i).build());
            ids.add(0, id);
        }
        final ListDecisionsResponse all = admin.listDecisions(ListDecisionsRequest.getDefaultInstance());
        assertThat(all.getDecisionsList()).extracting(Decision::getApprovalId).containsExactlyElementsOf(ids);
        final Decision denied = all.getDecisions(1);
        assertThat(denied.getState()).isEqualTo(ApprovalState.APPROVAL_STATE_DENIED);
        assertThat(denied.getRequestedBy()).isEqualTo("acme/ursula");
        assertThat(denied.getDecidedBy()).contains("boss");
        assertThat(denied.getToolName()).isEqualTo("file.write");
        assertThat(denied.getReason()).isEqualTo("reason 1");
        assertThat(denied.hasDecideTime()).isTrue();

        final ListDecisionsResponse first = admin.listDecisions(ListDecisionsRequest.newBuilder().setPageSize(2).build());
        assertThat(first.getDecisionsList()).extracting(Decision::getApprovalId).containsExactly(ids.get(0), ids.get(1));
        final ListDecisionsResponse second = admin.listDecisions(
                ListDecisionsRequest.newBuilder().setPageSize(2).setPageToken(first.getNextPageToken()).build());
        assertThat(second.getDecisionsList()).extracting(Decision::getApprovalId).containsExactly(ids.get(2));
        assertThat(second.getNextPageToken()).isEmpty();

        assertThat(otherAdmin.listDecisions(ListDecisionsRequest.getDefaultInstance()).getDecisionsList()).isEmpty();
        assertThatThrownBy(() -> otherAdmin.listDecisions(ListDecisionsRequest.newBuilder().setTenant("acme").build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
        assertThatThrownBy(() -> user.listDecisions(ListDecisionsRequest.getDefaultInstance()))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
        for (ListDecisionsRequest bad : List.of(ListDecisionsRequest.newBuilder().setPageSize(1001).build(),
                                                ListDecisionsRequest.newBuilder().setPageToken("zz").build(),
                                                ListDecisionsRequest.newBuilder().setPageToken("-3").build())) {
            assertThatThrownBy(() -> admin.listDecisions(bad))
                    .isInstanceOfSatisfying(StatusRuntimeException.class,
                                            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
        }
    }
}
