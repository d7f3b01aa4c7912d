package ai.sonia.evaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import ai.sonia.common.v1.Role;
import ai.sonia.evaos.v1.Approval;
import ai.sonia.evaos.v1.ApprovalState;
import ai.sonia.evaos.v1.EvaOsServiceGrpc;
import ai.sonia.evaos.v1.EvaOsServiceGrpc.EvaOsServiceBlockingStub;
import ai.sonia.evaos.v1.ListApprovalsRequest;
import ai.sonia.evaos.v1.ListApprovalsResponse;
import ai.sonia.runtime.testing.SoniaServiceExtension;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * {@code ListApprovals} pages (AIP-158): approvals asked for while a reader walks the pages neither shift nor
 * repeat one, and a token is good only for the listing that made it.
 */
class ApprovalPagingTest {

    @RegisterExtension
    static final SoniaServiceExtension evaos = SoniaServiceExtension.of(new EvaOsModule());

    private static EvaOsServiceBlockingStub user(String name) {
        return evaos.stub(EvaOsServiceGrpc::newBlockingStub, evaos.token("acme", name, Role.ROLE_USER));
    }

    @Test
    void pagesNeitherSkipNorRepeatWhileApprovalsArrive() {
        final EvaOsServiceBlockingStub user = user("paula");
        final List<String> expected = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            expected.add(0, ask(user, "p" + i));
        }
        final List<String> seen = new ArrayList<>();
        String token = "";
        int pages = 0;
        do {
            final ListApprovalsResponse page = user.listApprovals(
                    ListApprovalsRequest.newBuilder().setPageSize(2).setPageToken(token).build());
            page.getApprovalsList().forEach(a -> seen.add(a.getApprovalId()));
            token = page.getNextPageToken();
            ask(user, "late" + pages); // newer than every page: the next walk sees it first
            pages++;
        } while (!token.isEmpty());
        assertThat(seen).containsExactlyElementsOf(expected);
        assertThat(pages).isEqualTo(3);
    }

    @Test
    void aTokenServesOnlyTheListingThatMadeIt() {
        final EvaOsServiceBlockingStub quinn = user("quinn");
        final EvaOsServiceBlockingStub rita = user("rita");
        for (int i = 0; i < 3; i++) {
            ask(quinn, "q" + i);
        }
        final String token = quinn.listApprovals(ListApprovalsRequest.newBuilder().setPageSize(1).build())
                                  .getNextPageToken();
        assertThat(token).isNotEmpty();
        assertThat(quinn.listApprovals(ListApprovalsRequest.newBuilder().setPageSize(1).setPageToken(token).build())
                        .getApprovalsCount()).isEqualTo(1);
        // Another principal's token, the same token with another filter, and anything not a token of ours.
        final List<Runnable> foreign = List.of(
                () -> rita.listApprovals(ListApprovalsRequest.newBuilder().setPageToken(token).build()),
                () -> quinn.listApprovals(ListApprovalsRequest.newBuilder().setPageToken(token)
                                                              .setState(ApprovalState.APPROVAL_STATE_PENDING).build()),
                () -> quinn.listApprovals(ListApprovalsRequest.newBuilder().setPageToken("50").build()));
        for (Runnable call : foreign) {
            assertThatThrownBy(call::run).isInstanceOfSatisfying(
                    StatusRuntimeException.class,
                    e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
        }
    }

    private static String ask(EvaOsServiceBlockingStub stub, String file) {
        final Approval approval = stub.authorizeAction(ApprovalTenancyTest.write(file + ".txt", "s").build())
                                      .getApproval();
        assertThat(approval.getApprovalId()).isNotEmpty();
        return approval.getApprovalId();
    }
}
