package ai.sonia.openclaw;

import static ai.sonia.openclaw.OpenClawEndToEndTest.call;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import ai.sonia.openclaw.domain.AuditLog;
import ai.sonia.openclaw.store.PostgresAuditLog;
import ai.sonia.openclaw.v1.ExecuteToolRequest;
import ai.sonia.openclaw.v1.ExecuteToolResponse;
import ai.sonia.openclaw.v1.OpenClawServiceGrpc;
import ai.sonia.runtime.testing.EmbeddedPostgresExtension;
import ai.sonia.runtime.testing.SoniaServiceExtension;

/**
 * {@code "store": {"engine": "postgres"}}: two openclaw replicas keep one tool audit, so a call retried through
 * the other replica gets the first result without running again; and a start that fails closed.
 */
class PostgresEngineTest {

    @RegisterExtension
    static final EmbeddedPostgresExtension postgres = new EmbeddedPostgresExtension();

    @Test
    void twoReplicasKeepOneAuditAndOneRequestMemory() throws Exception {
        try (OpenClawTestStack stack = new OpenClawTestStack(postgres.stackConfig(), Map.of());
             SoniaServiceExtension b = stack.replica()) {
            final ExecuteToolRequest once = call("time.now", "{}").setRequestId("retry-1").build();
            final ExecuteToolResponse first = stack.tools(stack.adminToken()).executeTool(once);
            final var viaB = b.stub(OpenClawServiceGrpc::newBlockingStub, stack.adminToken());
            assertThat(viaB.executeTool(once)).isEqualTo(first); // the same audit record: it did not run again
            final ExecuteToolResponse second = viaB.executeTool(call("calc.eval", "{\"expression\":\"1+1\"}").build());
            try (PostgresAuditLog audit = PostgresAuditLog.open(postgres.settings())) {
                assertThat(audit.list(List.of(), 10).entries()).extracting(AuditLog.Entry::id)
                                                               .containsExactly(second.getAuditRecord(),
                                                                                first.getAuditRecord());
            }
        }
    }

    @Test
    void anUnreachablePostgresFailsTheStartNamingItAndNotThePassword() {
        final SoniaServiceExtension openclaw = SoniaServiceExtension.of(new OpenClawModule())
                .stackConfig(EmbeddedPostgresExtension.stackConfig(EmbeddedPostgresExtension.UNREACHABLE));
        EmbeddedPostgresExtension.assertFailsClosed(openclaw::start);
        openclaw.close();
    }
}
