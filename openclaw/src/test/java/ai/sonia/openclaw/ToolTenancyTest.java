package ai.sonia.openclaw;

import static ai.sonia.openclaw.OpenClawEndToEndTest.call;
import static ai.sonia.openclaw.OpenClawEndToEndTest.code;
import static ai.sonia.runtime.testing.StatusDetails.errorInfo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.nio.file.Files;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.RequestHeaders;

import ai.sonia.common.v1.Role;
import ai.sonia.evaos.v1.DecideApprovalRequest;
import ai.sonia.openclaw.store.SqliteAuditLog;
import ai.sonia.openclaw.v1.ExecuteToolRequest;
import ai.sonia.openclaw.v1.ExecuteToolResponse;
import ai.sonia.openclaw.v1.OpenClawServiceGrpc;
import ai.sonia.openclaw.v1.OpenClawServiceGrpc.OpenClawServiceBlockingStub;
import ai.sonia.runtime.auth.Principal;
import ai.sonia.runtime.auth.ServiceCredentials;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;

/** Each tenant's tools work in its own workspace: what tenant A writes, tenant B cannot read, list or find. */
class ToolTenancyTest {

    private static OpenClawTestStack stack;
    private static String aliceToken;
    private static String acmeAdminToken;
    private static String bobToken;
    private static OpenClawServiceBlockingStub alice;
    private static OpenClawServiceBlockingStub bob;

    @BeforeAll
    static void start() throws Exception {
        if (!TestJail.works()) {
            return; // each test skips itself (needsTheJail)
        }
        stack = new OpenClawTestStack();
        aliceToken = stack.token("acme", "alice", Role.ROLE_USER);
        acmeAdminToken = stack.token("acme", "root", Role.ROLE_ADMIN);
        bobToken = stack.token("globex", "bob", Role.ROLE_ADMIN);
        alice = stack.tools(aliceToken);
        bob = stack.tools(bobToken);
        // alice writes a file: MEDIUM risk, so she asks, her tenant's admin approves, and she runs it.
        final ExecuteToolRequest write = call("file.write", "{\"path\":\"secret.txt\",\"content\":\"acme only\"}")
                .build();
        final String id = errorInfo(catchThrowable(() -> alice.executeTool(write))).getMetadataOrThrow("approval_id");
        stack.approvals(acmeAdminToken).decideApproval(DecideApprovalRequest.newBuilder().setApprovalId(id)
                                                                        .setApprove(true).build());
        alice.executeTool(write.toBuilder().setApprovalId(id).build());
    }

    /** Each test is reported skipped, with the reason, when bubblewrap is missing (see {@link TestJail}). */
    @BeforeEach
    void needsTheJail() {
        TestJail.requireBubblewrap();
    }

    @AfterAll
    static void stop() {
        if (stack != null) { // null without bubblewrap (TestJail)
            stack.close();
        }
    }

    @Test
    void theFileLandsInTheTenantsOwnWorkspace() throws Exception {
        assertThat(Files.readString(stack.home.resolve("data/openclaw/tenants/acme/secret.txt")))
                .isEqualTo("acme only");
        assertThat(stack.defaultWorkspace().resolve("secret.txt")).doesNotExist();
        final ExecuteToolResponse read = alice.executeTool(call("file.read", "{\"path\":\"secret.txt\"}").build());
        assertThat(read.getOutput().getFieldsOrThrow("content").getStringValue()).isEqualTo("acme only");
        try (SqliteAuditLog audit = new SqliteAuditLog(stack.home.resolve("data/openclaw/audit.db"))) {
            assertThat(audit.list(java.util.List.of(), 100).entries()).anySatisfy(e -> {
                assertThat(e.id()).isEqualTo(read.getAuditRecord());
                assertThat(e.principal()).isEqualTo("acme/alice");
            });
        }
    }

    @Test
    void anotherTenantCannotReadListOrFindIt() throws Exception {
        final Throwable read = catchThrowable(() -> bob.executeTool(call("file.read", "{\"path\":\"secret.txt\"}")
                                                                            .build()));
        assertThat(code(read)).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(read.getMessage()).contains("no such file").doesNotContain("acme only");
        final ExecuteToolResponse list = bob.executeTool(call("file.list", "{\"path\":\"\",\"recursive\":true}")
                                                                 .build());
        assertThat(list.getOutput().toString()).doesNotContain("secret.txt");
        final ExecuteToolResponse search = bob.executeTool(call("file.search", "{\"query\":\"acme only\"}").build());
        assertThat(search.getOutput().getFieldsOrThrow("matches").getListValue().getValuesCount()).isZero();
        final ExecuteToolResponse cat = bob.executeTool(call("shell.run", "{\"argv\":[\"cat\",\"secret.txt\"]}")
                                                                .build());
        assertThat(cat.getExitCode()).isNotZero();
        assertThat(cat.getStdout()).doesNotContain("acme only");
        // Nor can tenant "default", whose workspace is the one of before tenants.
        final Throwable admin = catchThrowable(() -> stack.tools(stack.adminToken()).executeTool(
                call("file.read", "{\"path\":\"secret.txt\"}").build()));
        assertThat(code(admin)).isEqualTo(Status.Code.INVALID_ARGUMENT);
    }

    @Test
    void anotherTenantCannotReadItOverRest() {
        final AggregatedHttpResponse rest = stack.rest(bobToken).execute(
                RequestHeaders.builder(HttpMethod.POST, "/v1/tools/file.read:execute")
                              .contentType(MediaType.JSON_UTF_8).build(),
                "{\"arguments\":{\"path\":\"secret.txt\"}}").aggregate().join();
        assertThat(rest.status().code()).isEqualTo(400);
        assertThat(rest.contentUtf8()).doesNotContain("acme only");
        final AggregatedHttpResponse own = stack.rest(aliceToken).execute(
                RequestHeaders.builder(HttpMethod.POST, "/v1/tools/file.read:execute")
                              .contentType(MediaType.JSON_UTF_8).build(),
                "{\"arguments\":{\"path\":\"secret.txt\"}}").aggregate().join();
        assertThat(own.status().code()).isEqualTo(200);
        assertThat(own.contentUtf8()).contains("acme only");
    }

    @Test
    void anotherTenantCannotRunWithAGrantOfThisOne() throws Exception {
        final ExecuteToolRequest write = call("file.write", "{\"path\":\"granted.txt\",\"content\":\"x\"}").build();
        final String id = errorInfo(catchThrowable(() -> alice.executeTool(write))).getMetadataOrThrow("approval_id");
        stack.approvals(acmeAdminToken).decideApproval(DecideApprovalRequest.newBuilder().setApprovalId(id)
                                                                        .setApprove(true).build());
        final Throwable stolen = catchThrowable(() -> bob.executeTool(write.toBuilder().setApprovalId(id).build()));
        assertThat(errorInfo(stolen).getReason()).isEqualTo("APPROVAL_REQUIRED");
        assertThat(errorInfo(stolen).getMetadataOrThrow("approval_id")).isNotEqualTo(id);
        assertThat(stack.home.resolve("data/openclaw/tenants/globex/granted.txt")).doesNotExist();
        // The grant is still alice's to use.
        alice.executeTool(write.toBuilder().setApprovalId(id).build());
        assertThat(stack.home.resolve("data/openclaw/tenants/acme/granted.txt")).exists();
    }

    @Test
    void aServiceActingForItselfRunsNoTool() {
        final String service = ServiceCredentials.of(stack.config).issue("gateway", Principal.service("gateway"));
        final Throwable refused = catchThrowable(() -> stack.tools(service).executeTool(
                call("time.now", "{}").build()));
        assertThat(code(refused)).isEqualTo(Status.Code.PERMISSION_DENIED);
    }

    @Test
    void withoutATokenNothingRuns() {
        final ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", stack.openclaw.port())
                                                            .usePlaintext().build();
        try {
            final Throwable anonymous = catchThrowable(() -> OpenClawServiceGrpc.newBlockingStub(channel)
                                                                                .executeTool(call("time.now", "{}")
                                                                                                     .build()));
            assertThat(code(anonymous)).isEqualTo(Status.Code.UNAUTHENTICATED);
        } finally {
            channel.shutdownNow();
        }
    }
}
