package ai.sonia.openclaw.grpc;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import com.linecorp.armeria.server.ServiceRequestContext;

import ai.sonia.common.v1.ErrorCode;
import ai.sonia.evaos.v1.AuthorizeActionResponse;
import ai.sonia.evaos.v1.Verdict;
import ai.sonia.openclaw.catalog.InvalidArgumentsException;
import ai.sonia.openclaw.catalog.ToolCatalog;
import ai.sonia.openclaw.sandbox.Jail;
import ai.sonia.openclaw.sandbox.WorkspaceQuota;
import ai.sonia.openclaw.sandbox.ProcessResult;
import ai.sonia.openclaw.tools.ToolExecutor;
import ai.sonia.openclaw.v1.ExecuteToolRequest;
import ai.sonia.openclaw.v1.ExecuteToolResponse;
import ai.sonia.openclaw.v1.GetToolRequest;
import ai.sonia.openclaw.v1.ListToolsRequest;
import ai.sonia.openclaw.v1.ListToolsResponse;
import ai.sonia.openclaw.v1.OpenClawServiceGrpc;
import ai.sonia.openclaw.v1.Tool;
import ai.sonia.runtime.Correlation;
import ai.sonia.runtime.Errors;
import ai.sonia.runtime.auth.Principal;
import io.grpc.stub.StreamObserver;

/** The openclaw gRPC API: the catalog, and execution through {@link ToolExecutor}. Maps errors only. */
public final class OpenClawServiceImpl extends OpenClawServiceGrpc.OpenClawServiceImplBase {

    static final String DOMAIN = "openclaw.sonia.ai";

    private final ToolCatalog catalog;
    private final ToolExecutor executor;

    public OpenClawServiceImpl(ToolCatalog catalog, ToolExecutor executor) {
        this.catalog = catalog;
        this.executor = executor;
    }

    @Override
    public void listTools(ListToolsRequest request, StreamObserver<ListToolsResponse> responseObserver) {
        if (request.getPageSize() < 0) {
            throw Errors.invalidArgument(DOMAIN, "page_size", request.getPageSize() + " (expected: >= 0)");
        }
        final List<Tool> tools = catalog.tools();
        int from = 0;
        if (!request.getPageToken().isEmpty()) {
            from = tools.stream().map(Tool::getName).toList().indexOf(request.getPageToken()) + 1;
            if (from == 0) {
                throw Errors.invalidArgument(DOMAIN, "page_token", "unknown token: " + request.getPageToken());
            }
        }
        final int size = request.getPageSize() == 0 ? tools.size() : request.getPageSize();
        final int to = Math.min(tools.size(), from + size);
        final ListToolsResponse.Builder response = ListToolsResponse.newBuilder().addAllTools(tools.subList(from, to));
        if (to < tools.size()) {
            response.setNextPageToken(tools.get(to - 1).getName());
        }
        responseObserver.onNext(response.build());
        responseObserver.onCompleted();
    }

    @Override
    public void getTool(GetToolRequest request, StreamObserver<Tool> responseObserver) {
        if (request.getToolName().isEmpty()) {
            throw Errors.invalidArgument(DOMAIN, "tool_name", "is required");
        }
        responseObserver.onNext(catalog.find(request.getToolName()).orElseThrow(
                () -> Errors.notFound(DOMAIN, "tool", request.getToolName())));
        responseObserver.onCompleted();
    }

    @Override
    public void executeTool(ExecuteToolRequest request, StreamObserver<ExecuteToolResponse> responseObserver) {
        if (request.getToolName().isEmpty()) {
            throw Errors.invalidArgument(DOMAIN, "tool_name", "is required");
        }
        final ServiceRequestContext ctx = ServiceRequestContext.current();
        final Principal principal = Principal.current();
        if (principal.isService()) {
            throw Principal.permissionDenied("a tool runs for a user: a service acting for itself has no workspace");
        }
        final ToolExecutor.Executed executed;
        try {
            executed = executor.execute(new ToolExecutor.Request(
                    request.getToolName(), request.getArguments(), request.getWorkingDirectory(),
                    request.getApprovalId(), request.getSessionId(), principal, Correlation.current(),
                    Duration.ofMillis(ctx.requestTimeoutMillis())));
        } catch (ToolExecutor.UnknownToolException e) {
            throw Errors.notFound(DOMAIN, "tool", request.getToolName());
        } catch (InvalidArgumentsException e) {
            throw Errors.invalidArgument(DOMAIN, e.field(), e.getMessage());
        } catch (ToolExecutor.RefusedException e) {
            throw refusal(e.decision(), e.auditId());
        } catch (Jail.UnavailableException e) {
            // FAILED_PRECONDITION: the machine lacks what the tool needs; installing bubblewrap fixes it.
            throw Errors.of(DOMAIN, ErrorCode.ERROR_CODE_CONFLICT, request.getToolName() + " is off: "
                                                                  + e.getMessage(),
                            Map.of("tool", request.getToolName(), "missing_package", Jail.PACKAGE,
                                   "install", Jail.INSTALL));
        } catch (WorkspaceQuota.ExceededException e) {
            throw Errors.of(DOMAIN, ErrorCode.ERROR_CODE_RATE_LIMITED, e.getMessage(),
                            Map.of("tool", request.getToolName(), "quota_bytes", String.valueOf(e.quota()),
                                   "used_bytes", String.valueOf(e.used())));
        }
        final ExecuteToolResponse.Builder response =
                ExecuteToolResponse.newBuilder()
                                   .setOutput(executed.outcome().output())
                                   .setDurationMs(executed.durationMs())
                                   .setAuditRecord(executed.auditId());
        final ProcessResult process = executed.outcome().process();
        if (process != null) {
            response.setExitCode(process.exitCode()).setStdout(process.stdout()).setStderr(process.stderr())
                    .setTruncated(process.truncated()).setJailed(process.jailed());
        } else {
            response.setTruncated(executed.outcome().output().getFieldsOrDefault(
                    "truncated", com.google.protobuf.Value.getDefaultInstance()).getBoolValue());
        }
        responseObserver.onNext(response.build());
        responseObserver.onCompleted();
    }

    private static RuntimeException refusal(AuthorizeActionResponse decision, String auditId) {
        if (decision.getVerdict() == Verdict.VERDICT_REQUIRE_APPROVAL) {
            return Errors.of(DOMAIN, ErrorCode.ERROR_CODE_APPROVAL_REQUIRED,
                             "approval required: " + decision.getReason(),
                             Map.of("approval_id", decision.getApproval().getApprovalId(),
                                    "rule", decision.getRule(), "risk", decision.getRisk().name(),
                                    "action_hash", decision.getActionHash(), "audit_record", auditId));
        }
        return Errors.of(DOMAIN, ErrorCode.ERROR_CODE_POLICY_DENIED, "denied by policy: " + decision.getReason(),
                         Map.of("rule", decision.getRule(), "risk", decision.getRisk().name(),
                                "action_hash", decision.getActionHash(), "audit_record", auditId));
    }
}
