package ai.sonia.evaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;

import org.junit.jupiter.api.Test;

import ai.sonia.common.v1.Role;
import ai.sonia.evaos.store.LegacyApprovals;
import ai.sonia.evaos.v1.Approval;
import ai.sonia.evaos.v1.ApprovalState;
import ai.sonia.evaos.v1.EvaOsServiceGrpc;
import ai.sonia.evaos.v1.GetApprovalRequest;
import ai.sonia.evaos.v1.Verdict;
import ai.sonia.runtime.testing.SoniaServiceExtension;
import ai.sonia.runtime.testing.TestHomes;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * An approvals file from before tenants opens: its rows become tenant "default" with no known owner, so an
 * admin of that tenant still sees them but their grants allow nobody's action (an approval is its requester's,
 * and who asked then is not known).
 */
class ApprovalMigrationTest {

    @Test
    void oldRowsBecomeTenantDefaultWithNoOwner() throws Exception {
        final Path home = TestHomes.create("evaos-legacy");
        Files.createDirectories(home.resolve("config"));
        Files.writeString(home.resolve("config/sonia.json"), "{}");
        Files.createDirectories(home.resolve("data/evaos"));
        final long far = System.currentTimeMillis() + 3_600_000;
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + home.resolve("data/evaos/approvals.db"));
             Statement s = c.createStatement()) {
            // The schema as it was before tenants, with a SESSION grant and its hash of then.
            s.execute(LegacyApprovals.table(""));
            s.execute("CREATE INDEX approvals_tool ON approvals(tool, grant_scope, state)");
            s.execute("INSERT INTO approvals VALUES ('old-grant', 2, 'shell.run', '{\"argv\":[\"mkdir\",\"old\"]}', "
                      + "'', 'hash-of-then', 3, 'shell.run/default-risk', 2, '', 'old-session', 'local', 'local', "
                      + "1, 2, " + far + ", '', 0)");
        }
        try (var evaos = SoniaServiceExtension.of(new EvaOsModule()).home(home).start()) {
            final Approval migrated = evaos.stub(EvaOsServiceGrpc::newBlockingStub, evaos.adminToken()).getApproval(
                    GetApprovalRequest.newBuilder().setApprovalId("old-grant").build());
            assertThat(migrated.getTenant()).isEqualTo("default");
            assertThat(migrated.getRequester()).isEmpty();
            assertThat(migrated.getState()).isEqualTo(ApprovalState.APPROVAL_STATE_APPROVED);
            assertThat(migrated.getActionHash()).isNotEqualTo("hash-of-then").hasSize(64);
            // No user owns it: a plain user (even one named like the old placeholder) neither sees nor uses it.
            final var plain = evaos.stub(EvaOsServiceGrpc::newBlockingStub, evaos.token("default", "local", Role.ROLE_USER));
            assertThat(plain.authorizeAction(ApprovalFlowTest.action(ApprovalFlowTest.argv("mkdir", "old"),
                                                                     "old-session").setExecute(true).build())
                            .getVerdict()).isEqualTo(Verdict.VERDICT_REQUIRE_APPROVAL);
            assertThatThrownBy(() -> plain.getApproval(GetApprovalRequest.newBuilder().setApprovalId("old-grant")
                                                                         .build()))
                    .satisfies(e -> assertThat(((StatusRuntimeException) e).getStatus().getCode())
                            .isEqualTo(Status.Code.NOT_FOUND));
            // Nor does another tenant's admin.
            final var other = evaos.stub(EvaOsServiceGrpc::newBlockingStub, evaos.token("acme", "local", Role.ROLE_ADMIN));
            assertThat(other.authorizeAction(ApprovalFlowTest.action(ApprovalFlowTest.argv("mkdir", "old"),
                                                                     "old-session").build()).getVerdict())
                    .isEqualTo(Verdict.VERDICT_REQUIRE_APPROVAL);
            assertThatThrownBy(() -> other.getApproval(GetApprovalRequest.newBuilder().setApprovalId("old-grant")
                                                                         .build()))
                    .satisfies(e -> assertThat(((StatusRuntimeException) e).getStatus().getCode())
                            .isEqualTo(Status.Code.NOT_FOUND));
        }
        // Opening it again migrates nothing twice.
        try (var again = SoniaServiceExtension.of(new EvaOsModule()).home(home).start()) {
            assertThat(again.stub(EvaOsServiceGrpc::newBlockingStub, again.adminToken()).getApproval(GetApprovalRequest.newBuilder().setApprovalId("old-grant").build())
                            .getTenant()).isEqualTo("default");
        }
    }
}
