package ai.sonia.gateway.action;

import java.util.TreeSet;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.util.JsonFormat;

import ai.sonia.evaos.v1.AuthorizeActionRequest;
import ai.sonia.evaos.v1.AuthorizeActionResponse;
import ai.sonia.gateway.client.Downstreams;
import ai.sonia.gateway.v1.ActionOutcome;
import ai.sonia.gateway.v1.ActionStatus;
import ai.sonia.gateway.v1.ExecuteActionRequest;
import ai.sonia.openclaw.v1.ExecuteToolRequest;
import ai.sonia.openclaw.v1.ExecuteToolResponse;
import ai.sonia.runtime.Errors;
import ai.sonia.runtime.errors.ActionRefusal;
import ai.sonia.runtime.errors.DomainException;
import io.grpc.StatusRuntimeException;

/**
 * The one path of every action, whether a person asks for it ({@code POST /v1/action}) or a model
 * proposes it in a chat: validate, ask EVA-OS, and run it in OpenClaw only when EVA-OS allows it.
 */
public final class ActionRunner {

    static final String DOMAIN = "gateway.sonia.ai";

    private final Downstreams downstreams;
    private final ToolDefinitions tools;

    public ActionRunner(Downstreams downstreams, ToolDefinitions tools) {
        this.downstreams = downstreams;
        this.tools = tools;
    }

    /**
     * Runs an action. Throws INVALID_ARGUMENT for an unknown tool, APPROVAL_REQUIRED (with the approval
     * id) when a person must decide first, POLICY_DENIED when the policy forbids it, and whatever
     * OpenClaw raised when the tool itself failed. EVA-OS and OpenClaw see the principal of the request
     * being served through the service credential, so the approval is the principal's own.
     */
    public ActionOutcome execute(ExecuteActionRequest request) {
        if (request.getToolName().isEmpty()) {
            throw DomainException.invalidArgument("tool_name", "must not be empty");
        }
        if (!tools.contains(request.getToolName())) {
            throw DomainException.invalidArgument("tool_name", "unknown tool '" + request.getToolName()
                                                             + "' (expected one of " + new TreeSet<>(tools.names()) + ')');
        }
        // A preview (execute=false): it decides without using up a ONCE grant; OpenClaw authorizes the
        // exact call again, for real, when it runs it.
        final AuthorizeActionResponse decision = downstreams.evaos().authorizeAction(
                AuthorizeActionRequest.newBuilder()
                                      .setToolName(request.getToolName())
                                      .setArguments(request.getArguments())
                                      .setWorkingDirectory(request.getWorkingDirectory())
                                      .setSessionId(request.getSessionId())
                                      .setApprovalId(request.getApprovalId())
                                      .build());
        final ActionOutcome.Builder outcome = ActionOutcome.newBuilder()
                                                           .setToolName(request.getToolName())
                                                           .setRisk(decision.getRisk())
                                                           .setRule(decision.getRule());
        switch (decision.getVerdict()) {
            case VERDICT_ALLOW -> {
                final String approvalId = decision.hasApproval() ? decision.getApproval().getApprovalId()
                                                                 : request.getApprovalId();
                final ExecuteToolResponse result = downstreams.openclaw().executeTool(
                        ExecuteToolRequest.newBuilder()
                                          .setToolName(request.getToolName())
                                          .setArguments(request.getArguments())
                                          .setWorkingDirectory(request.getWorkingDirectory())
                                          .setSessionId(request.getSessionId())
                                          .setApprovalId(approvalId)
                                          .build());
                return outcome.setStatus(ActionStatus.ACTION_STATUS_EXECUTED).setApprovalId(approvalId)
                              .setResult(toStruct(result)).setDurationMs(result.getDurationMs()).build();
            }
            default -> throw ActionRefusal.of(decision);
        }
    }

    /** Like {@link #execute}, but a refusal or failure becomes the outcome's status instead of an error. */
    public ActionOutcome outcome(ExecuteActionRequest request) {
        try {
            return execute(request);
        } catch (DomainException e) { // the gateway's own refusal, as the exception handler would send it
            return failed(request, Errors.of(DOMAIN, e));
        } catch (StatusRuntimeException e) { // EVA-OS's or OpenClaw's
            return failed(request, e);
        }
    }

    private static ActionOutcome failed(ExecuteActionRequest request, StatusRuntimeException e) {
        final String code = Errors.envelopeCode(e);
        final ActionOutcome.Builder outcome = ActionOutcome.newBuilder().setToolName(request.getToolName());
        switch (code) {
            case "APPROVAL_REQUIRED" -> outcome.setStatus(ActionStatus.ACTION_STATUS_APPROVAL_REQUIRED);
            case "POLICY_DENIED" -> outcome.setStatus(ActionStatus.ACTION_STATUS_DENIED);
            default -> outcome.setStatus(ActionStatus.ACTION_STATUS_FAILED).setErrorCode(code);
        }
        final String approvalId = Errors.metadata(e, "approval_id");
        if (approvalId != null) {
            outcome.setApprovalId(approvalId);
        }
        return outcome.build();
    }

    /** The tool call's arguments as JSON text (what a model sends) turned into a Struct. */
    public static Struct arguments(String json) {
        final Struct.Builder args = Struct.newBuilder();
        if (json == null || json.isBlank()) {
            return args.build();
        }
        try {
            JsonFormat.parser().merge(json, args);
            return args.build();
        } catch (InvalidProtocolBufferException e) {
            throw DomainException.invalidArgument("arguments", "not a JSON object: " + e.getMessage());
        }
    }

    private static Struct toStruct(ExecuteToolResponse result) {
        try {
            final Struct.Builder struct = Struct.newBuilder();
            JsonFormat.parser().merge(JsonFormat.printer().preservingProtoFieldNames().print(result), struct);
            return struct.build();
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException(e);
        }
    }
}
