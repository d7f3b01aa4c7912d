package ai.sonia.openclaw;

import static ai.sonia.runtime.testing.StatusDetails.errorInfo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.google.protobuf.Struct;
import com.google.protobuf.util.JsonFormat;

import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.common.AggregatedHttpResponse;

import ai.sonia.evaos.v1.DecideApprovalRequest;
import ai.sonia.evaos.v1.EvaOsServiceGrpc;
import ai.sonia.evaos.v1.GrantScope;
import ai.sonia.openclaw.store.SqliteAuditLog;
import ai.sonia.openclaw.v1.ExecuteToolRequest;
import ai.sonia.openclaw.v1.ExecuteToolResponse;
import ai.sonia.openclaw.v1.GetToolRequest;
import ai.sonia.openclaw.v1.ListToolsRequest;
import ai.sonia.openclaw.v1.ListToolsResponse;
import ai.sonia.openclaw.v1.OpenClawServiceGrpc;
import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.auth.Principal;
import ai.sonia.runtime.auth.ServiceCredentials;
import ai.sonia.runtime.paging.PageTokens;
import ai.sonia.runtime.testing.Rest;
import ai.sonia.runtime.testing.TestCredentials;
import ai.sonia.runtime.testing.TestHomes;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/** Real EVA-OS and OpenClaw servers on loopback, a real memory gRPC server, real processes. */
class OpenClawEndToEndTest {

    private static OpenClawTestStack stack;
    private static Path home;
    private static TestMemoryService memories;
    private static OpenClawServiceGrpc.OpenClawServiceBlockingStub tools;
    private static EvaOsServiceGrpc.EvaOsServiceBlockingStub approvals;

    @BeforeAll
    static void start() {
        if (!TestJail.works()) {
            return; // each test skips itself (needsTheJail)
        }
        stack = new OpenClawTestStack();
        home = stack.home;
        memories = stack.memories;
        tools = stack.tools(stack.adminToken());
        approvals = stack.approvals(stack.adminToken());
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

    static Struct json(String text) throws Exception {
        final Struct.Builder b = Struct.newBuilder();
        JsonFormat.parser().merge(text, b);
        return b.build();
    }

    static ExecuteToolRequest.Builder call(String tool, String arguments) throws Exception {
        return ExecuteToolRequest.newBuilder().setToolName(tool).setArguments(json(arguments)).setSessionId("e2e");
    }

    static Status.Code code(Throwable e) {
        return ((StatusRuntimeException) e).getStatus().getCode();
    }

    @Test
    void aRetriedCallWithTheSameRequestIdRunsOnceAndGetsTheFirstResult() throws Exception {
        final ExecuteToolRequest once = call("time.now", "{}").setRequestId("retry-1").build();
        final ExecuteToolResponse first = tools.executeTool(once);
        assertThat(tools.executeTool(once)).isEqualTo(first); // the same audit record: it did not run again
        assertThat(tools.executeTool(once.toBuilder().setRequestId("retry-2").build()).getAuditRecord())
                .isNotEqualTo(first.getAuditRecord());
        // A request id is its principal's: another user's same id is another request.
        final var bob = stack.tools(stack.token("default", "bob", ai.sonia.common.v1.Role.ROLE_USER));
        assertThat(bob.executeTool(once).getAuditRecord()).isNotEqualTo(first.getAuditRecord());
        assertThatThrownBy(() -> tools.executeTool(once.toBuilder().setRequestId("x".repeat(129)).build()))
                .satisfies(e -> assertThat(code(e)).isEqualTo(Status.Code.INVALID_ARGUMENT));
    }

    @Test
    void catalogIsListedPagedAndServedOverRest() {
        final ListToolsResponse all = tools.listTools(ListToolsRequest.getDefaultInstance());
        assertThat(all.getToolsList()).hasSize(13);
        final ListToolsResponse page = tools.listTools(ListToolsRequest.newBuilder().setPageSize(5).build());
        assertThat(page.getToolsList()).hasSize(5);
        final ListToolsResponse next = tools.listTools(ListToolsRequest.newBuilder().setPageSize(5)
                                                                       .setPageToken(page.getNextPageToken()).build());
        assertThat(next.getTools(0).getName()).isEqualTo(all.getTools(5).getName());
        final ListToolsResponse last = tools.listTools(ListToolsRequest.newBuilder().setPageSize(5)
                                                                       .setPageToken(next.getNextPageToken()).build());
        assertThat(last.getNextPageToken()).isEmpty();
        assertThat(java.util.stream.Stream.of(page, next, last).flatMap(p -> p.getToolsList().stream()).toList())
                .isEqualTo(all.getToolsList());
        // A token is this list's own: a tool name, a bare string or another list's token is INVALID_ARGUMENT.
        for (String foreign : List.of("shell.run", "x",
                                      PageTokens.next("ListApprovals default/admin state=0", List.of("1", "2")))) {
            assertThatThrownBy(() -> tools.listTools(ListToolsRequest.newBuilder().setPageToken(foreign).build()))
                    .satisfies(e -> assertThat(code(e)).isEqualTo(Status.Code.INVALID_ARGUMENT));
        }
        assertThatThrownBy(() -> tools.getTool(GetToolRequest.newBuilder().setToolName("rm.rf").build()))
                .satisfies(e -> assertThat(code(e)).isEqualTo(Status.Code.NOT_FOUND));
        final WebClient client = stack.rest(stack.adminToken());
        final AggregatedHttpResponse rest = client.get("/v1/tools/shell.run").aggregate().join();
        assertThat(rest.status().code()).isEqualTo(200);
        assertThat(rest.contentUtf8()).contains("\"input_schema\"").contains("\"additionalProperties\"");
        final AggregatedHttpResponse refused = Rest.postJson(
                client, "/v1/tools/file.write:execute", "{\"arguments\":{\"path\":\"rest.txt\",\"content\":\"x\"}}");
        assertThat(refused.status().code()).isEqualTo(403);
        assertThat(refused.contentUtf8()).contains("APPROVAL_REQUIRED").contains("approval_id");
    }

    @Test
    void lowRiskToolsRunAtOnceAndLeaveAnAuditRecord() throws Exception {
        final ExecuteToolResponse now = tools.executeTool(call("time.now", "{\"time_zone\":\"Europe/Paris\"}").build());
        assertThat(now.getOutput().getFieldsOrThrow("time_zone").getStringValue()).isEqualTo("Europe/Paris");
        assertThat(now.getAuditRecord()).isNotEmpty();
        final ExecuteToolResponse calc = tools.executeTool(call("calc.eval", "{\"expression\":\"2*(3+4)^2\"}").build());
        assertThat(calc.getOutput().getFieldsOrThrow("value").getNumberValue()).isEqualTo(98);
        final ExecuteToolResponse ls = tools.executeTool(call("shell.run", "{\"argv\":[\"ls\",\"-a\"]}").build());
        assertThat(ls.getExitCode()).isZero();
        assertThat(ls.getJailed()).isTrue();
        // LOW: the workspace is mounted read-only for it, whatever it tries.
        assertThat(ls.getOutput().getFieldsOrThrow("workspace_writable").getBoolValue()).isFalse();
        try (SqliteAuditLog audit = new SqliteAuditLog(home.resolve("data/openclaw/audit.db"))) {
            assertThat(audit.list(java.util.List.of(), 100).entries()).anySatisfy(e -> {
                assertThat(e.id()).isEqualTo(ls.getAuditRecord());
                assertThat(e.tool()).isEqualTo("shell.run");
                assertThat(e.decision()).isEqualTo("VERDICT_ALLOW");
                assertThat(e.rule()).isEqualTo("shell.run/read-only-program");
                assertThat(e.outcome()).isEqualTo("OK");
            });
        }
    }

    @Test
    void anApprovedActionRunsExactlyOnceAndChangedArgumentsNeedANewApproval() throws Exception {
        final ExecuteToolRequest write = call("file.write", "{\"path\":\"notes/a.txt\",\"content\":\"v1\","
                                                            + "\"create_parents\":true}").build();
        final StatusRuntimeException required = (StatusRuntimeException) catchThrowable(() -> tools.executeTool(write));
        assertThat(required.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
        assertThat(errorInfo(required).getReason()).isEqualTo("APPROVAL_REQUIRED");
        final String approvalId = errorInfo(required).getMetadataOrThrow("approval_id");
        assertThat(home.resolve("data/openclaw/workspace/notes/a.txt")).doesNotExist();

        approvals.decideApproval(DecideApprovalRequest.newBuilder().setApprovalId(approvalId).setApprove(true)
                                                      .setGrantScope(GrantScope.GRANT_SCOPE_ONCE).build());
        final ExecuteToolRequest changed = call("file.write", "{\"path\":\"notes/a.txt\",\"content\":\"v2\","
                                                              + "\"create_parents\":true}")
                .setApprovalId(approvalId).build();
        final Throwable replay = catchThrowable(() -> tools.executeTool(changed));
        assertThat(errorInfo(replay).getReason()).isEqualTo("POLICY_DENIED");

        tools.executeTool(write.toBuilder().setApprovalId(approvalId).build());
        assertThat(Files.readString(home.resolve("data/openclaw/workspace/notes/a.txt"))).isEqualTo("v1");
        final Throwable second = catchThrowable(() -> tools.executeTool(write.toBuilder().setApprovalId(approvalId)
                                                                             .build()));
        assertThat(errorInfo(second).getReason()).isEqualTo("APPROVAL_REQUIRED");
        assertThat(errorInfo(second).getMetadataOrThrow("approval_id")).isNotEqualTo(approvalId);
    }

    @Test
    void escapesAreStoppedByEvaOsOrByTheSandbox() throws Exception {
        final Throwable traversal = catchThrowable(() -> tools.executeTool(call("file.read",
                                                                                "{\"path\":\"../../config/sonia.json\"}")
                                                                                   .build()));
        assertThat(errorInfo(traversal).getReason()).isEqualTo("POLICY_DENIED");
        assertThat(errorInfo(traversal).getMetadataOrThrow("rule")).isEqualTo("path/outside-workspace");

        final Path outside = Files.createDirectories(home.resolve("outside"));
        Files.writeString(outside.resolve("secret.txt"), "s3cret");
        Files.createSymbolicLink(home.resolve("data/openclaw/workspace/planted"), outside);
        final Throwable symlink = catchThrowable(() -> tools.executeTool(call("file.read",
                                                                              "{\"path\":\"planted/secret.txt\"}")
                                                                                 .build()));
        assertThat(code(symlink)).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(errorInfo(symlink).getMetadataOrThrow("field")).isEqualTo("arguments.path");
        assertThat(symlink.getMessage()).doesNotContain("s3cret");

        Files.createSymbolicLink(home.resolve("data/openclaw/workspace/shadow"), Path.of("/etc/shadow"));
        final Throwable linked = catchThrowable(() -> tools.executeTool(call("shell.run",
                                                                             "{\"argv\":[\"cat\",\"shadow\"]}").build()));
        assertThat(errorInfo(linked).getMetadataOrThrow("field")).isEqualTo("arguments.argv[1]");

        final Throwable injection = catchThrowable(() -> tools.executeTool(call("shell.run",
                                                                                "{\"argv\":[\"ls\",\"$(id)\"]}").build()));
        assertThat(errorInfo(injection).getMetadataOrThrow("rule")).isEqualTo("shell.run/metacharacters");
        final Throwable abbreviated = catchThrowable(() -> tools.executeTool(call("shell.run",
                "{\"argv\":[\"find\",\".\",\"-exec\",\"id\",\"+\"]}").build()));
        assertThat(errorInfo(abbreviated).getReason()).isEqualTo("POLICY_DENIED");
        final Throwable ssrf = catchThrowable(() -> tools.executeTool(call("http.fetch",
                                                                           "{\"url\":\"http://0x7f.1/\"}").build()));
        assertThat(errorInfo(ssrf).getMetadataOrThrow("rule")).isEqualTo("http.fetch/obfuscated-host");
    }

    @Test
    void badArgumentsNameTheField() throws Exception {
        final Throwable missing = catchThrowable(() -> tools.executeTool(call("file.read", "{}").build()));
        assertThat(code(missing)).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(errorInfo(missing).getMetadataOrThrow("field")).isEqualTo("arguments.path");
        final Throwable unknown = catchThrowable(() -> tools.executeTool(call("time.now", "{\"tz\":\"x\"}").build()));
        assertThat(errorInfo(unknown).getMetadataOrThrow("field")).isEqualTo("arguments.tz");
        final Throwable zone = catchThrowable(() -> tools.executeTool(call("time.now", "{\"time_zone\":\"Mars/Base\"}")
                                                                               .build()));
        assertThat(errorInfo(zone).getMetadataOrThrow("field")).isEqualTo("arguments.time_zone");
        final Throwable noTool = catchThrowable(() -> tools.executeTool(call("nope", "{}").build()));
        assertThat(code(noTool)).isEqualTo(Status.Code.NOT_FOUND);
    }

    @Test
    void theSeedsShellRunWithACommandLineIsRefusedNamingTheShapeItTakes() throws Exception {
        // A command line is not split into argv here: there is no shell, and guessing its quoting would be one.
        final AggregatedHttpResponse refused = Rest.postJson(stack.rest(stack.adminToken()), "/v1/tools/shell.run:execute",
                                                             "{\"arguments\":{\"command\":\"ls -l\"}}");
        assertThat(refused.status().code()).isEqualTo(400);
        final com.fasterxml.jackson.databind.JsonNode error =
                new com.fasterxml.jackson.databind.ObjectMapper().readTree(refused.contentUtf8()).path("error");
        assertThat(error.path("code").asText()).isEqualTo("INVALID_ARGUMENT");
        assertThat(error.path("message").asText())
                .isEqualTo("arguments.command: not an argument of shell.run; expected {\"argv\": [string] (required), "
                           + "\"timeout_seconds\": integer, \"stdin\": string}");
        assertThat(error.at("/details/field_violations/0/field").asText()).isEqualTo("arguments.command");
    }

    @Test
    void aProgramKilledByItsOwnTimeoutIsAResultNotAnError() throws Exception {
        final ExecuteToolRequest sleep = approved("{\"argv\":[\"sleep\",\"31999\"],\"timeout_seconds\":1}");
        final ExecuteToolResponse timedOut = tools.executeTool(sleep);
        assertThat(timedOut.getOutput().getFieldsOrThrow("timed_out").getBoolValue()).isTrue();
        assertThat(timedOut.getOutput().getFieldsOrThrow("killed_by").getStringValue()).isEqualTo("timeout");
        assertThat(timedOut.getExitCode()).isNotZero();
        assertThat(ProcessHandle.allProcesses().map(p -> p.info().commandLine().orElse(""))
                                .filter(c -> c.contains("sleep 31999"))).isEmpty();
    }

    @Test
    void aProgramOutlivingTheCallersDeadlineIsKilledWithinIt() throws Exception {
        final ExecuteToolRequest sleep = approved("{\"argv\":[\"sleep\",\"31998\"],\"timeout_seconds\":120}");
        // Killed a second before the caller's deadline, so the caller learns it timed out.
        final ExecuteToolResponse result = tools.withDeadlineAfter(5, java.util.concurrent.TimeUnit.SECONDS)
                                                .executeTool(sleep);
        assertThat(result.getOutput().getFieldsOrThrow("timed_out").getBoolValue()).isTrue();
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).until(
                () -> ProcessHandle.allProcesses().map(p -> p.info().commandLine().orElse(""))
                                   .noneMatch(c -> c.contains("sleep 31998")));
    }

    @Test
    void memoryToolsCallTheMemoryServiceForThePrincipal() throws Exception {
        final String token = stack.token("acme", "alice", ai.sonia.common.v1.Role.ROLE_USER);
        stack.tools(token).executeTool(call("memory.store", "{\"text\":\"the cat is called Miso\",\"kind\":\"fact\"}")
                                               .build());
        final ExecuteToolResponse found = stack.tools(token).executeTool(call("memory.search", "{\"query\":\"Miso\"}")
                                                                                 .build());
        assertThat(found.getOutput().getFieldsOrThrow("hits").getListValue().getValuesCount()).isEqualTo(1);
        final var scope = memories.memories.stream().filter(m -> m.getText().contains("Miso")).findFirst()
                                           .orElseThrow().getScope();
        assertThat(scope.getTenant()).isEqualTo("acme");
        assertThat(scope.getUser()).isEqualTo("alice");
        assertThat(scope.getSession()).isEqualTo("e2e");
        // The call carries openclaw's service credential, acting for alice.
        final Principal forwarded = ServiceCredentials.of(stack.config).verify(
                stack.memoryAuthorizations.get(stack.memoryAuthorizations.size() - 1).substring("Bearer ".length()));
        assertThat(forwarded.tenant()).isEqualTo("acme");
        assertThat(forwarded.subject()).isEqualTo("alice");
        assertThat(forwarded.via()).isEqualTo("openclaw");
        // Another tenant's search finds nothing of it.
        final ExecuteToolResponse other = stack.tools(stack.token("globex", "alice", ai.sonia.common.v1.Role.ROLE_USER))
                                               .executeTool(call("memory.search", "{\"query\":\"Miso\"}").build());
        assertThat(other.getOutput().getFieldsOrThrow("hits").getListValue().getValuesCount()).isZero();
    }

    @Test
    void withoutEvaOsNothingRuns() throws Exception {
        final Path other = Path.of("target", "e2e-down-" + UUID.randomUUID()).toAbsolutePath();
        final Map<String, String> env = new java.util.HashMap<>(TestHomes.env(other));
        env.put("SONIA_EVAOS_TARGET", "127.0.0.1:1");
        final StackConfig config = StackConfig.load(env).withPorts(Map.of("openclaw", 0));
        try (SoniaServer lonely = new OpenClawModule().newServer(config).start()) {
            final ManagedChannel ch = ManagedChannelBuilder.forAddress("127.0.0.1", lonely.port()).usePlaintext()
                                                           .build();
            try {
                final Throwable down = catchThrowable(() -> OpenClawServiceGrpc.newBlockingStub(ch).withInterceptors(
                        TestCredentials.bearer(TestCredentials.adminToken(config))).executeTool(
                        call("time.now", "{}").build()));
                assertThat(code(down)).isEqualTo(Status.Code.UNAVAILABLE);
            } finally {
                ch.shutdownNow();
            }
        }
    }

    /** A shell.run call that asked for approval and got a ONCE grant, with its approval id set. */
    private static ExecuteToolRequest approved(String arguments) throws Exception {
        final ExecuteToolRequest request = call("shell.run", arguments).build();
        final String id = errorInfo(catchThrowable(() -> tools.executeTool(request))).getMetadataOrThrow("approval_id");
        approvals.decideApproval(DecideApprovalRequest.newBuilder().setApprovalId(id).setApprove(true).build());
        return request.toBuilder().setApprovalId(id).build();
    }

    private static Throwable catchThrowable(org.assertj.core.api.ThrowableAssert.ThrowingCallable call) {
        final Throwable t = org.assertj.core.api.Assertions.catchThrowable(call);
        assertThat(t).isInstanceOf(StatusRuntimeException.class);
        return t;
    }
}
