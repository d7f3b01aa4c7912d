package ai.sonia.openclaw.domain;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.locks.Lock;

import com.google.common.util.concurrent.Striped;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;

import ai.sonia.evaos.v1.AuthorizeActionResponse;
import ai.sonia.evaos.v1.Verdict;
import ai.sonia.openclaw.client.EvaOsGate;
import ai.sonia.openclaw.sandbox.Jail;
import ai.sonia.openclaw.sandbox.ProcessResult;
import ai.sonia.openclaw.sandbox.Workspace;
import ai.sonia.openclaw.sandbox.Workspaces;
import ai.sonia.openclaw.tools.Handler;
import ai.sonia.openclaw.tools.StandardTools;
import ai.sonia.openclaw.tools.ToolCall;
import ai.sonia.openclaw.tools.ToolOutcome;
import ai.sonia.openclaw.v1.ExecuteToolResponse;
import ai.sonia.runtime.auth.Principal;
import ai.sonia.runtime.errors.ActionRefusal;
import ai.sonia.runtime.errors.DomainException;

/**
 * One tool call from request to audit record: the tool must exist, its arguments must match its
 * contract, EVA-OS must allow exactly this call, then it runs in the sandbox of the caller's tenant's
 * workspace. Every outcome, refusals included, is audited under the principal.
 */
public final class ToolExecutor {

    private final StandardTools tools;
    private final Jail jail;
    private final Workspaces workspaces;
    private final EvaOsGate gate;
    private final AuditLog audit;

    public ToolExecutor(StandardTools tools, Jail jail, Workspaces workspaces, EvaOsGate gate, AuditLog audit) {
        this.tools = tools;
        this.jail = jail;
        this.workspaces = workspaces;
        this.gate = gate;
        this.audit = audit;
    }

    /**
     * Who asks for what: a user (or API key) of a tenant, never a service acting for itself; {@code requestId},
     * when not empty, makes a retry get the first result.
     */
    public record Request(String tool, Struct arguments, String workingDirectory, String approvalId,
                          String sessionId, Principal principal, String correlationId, Duration budget,
                          String requestId) {}

    /** A call that ran, with its audit record id. */
    private record Executed(ToolOutcome outcome, String auditId, long durationMs) {}

    /** How long the result of a request id is remembered. */
    static final Duration REQUEST_MEMORY = Duration.ofHours(24);

    /** One lock per request id being run, so two retries of one request arriving together run it once. */
    private final Striped<Lock> requests = Striped.lazyWeakLock(64);

    /**
     * Runs the call (see {@link #execute}) and answers with its result; a request id that this principal sent
     * in the last 24 hours with a result gets that result again, and the tool does not run.
     */
    public ExecuteToolResponse run(Request request) {
        if (request.requestId().isEmpty()) {
            return response(execute(request));
        }
        final String principal = request.principal().audit();
        final Lock lock = requests.get(principal + '\n' + request.requestId());
        lock.lock();
        try {
            final long now = System.currentTimeMillis();
            final Optional<byte[]> first = audit.response(principal, request.requestId(),
                                                          now - REQUEST_MEMORY.toMillis());
            if (first.isPresent()) {
                return ExecuteToolResponse.parseFrom(first.get());
            }
            final ExecuteToolResponse response = response(execute(request));
            audit.rememberResponse(principal, request.requestId(), response.toByteArray(), now,
                                   now - REQUEST_MEMORY.toMillis());
            return response;
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("corrupt result of request " + request.requestId(), e);
        } finally {
            lock.unlock();
        }
    }

    private static ExecuteToolResponse response(Executed executed) {
        final ExecuteToolResponse.Builder response = ExecuteToolResponse.newBuilder()
                                                                        .setOutput(executed.outcome().output())
                                                                        .setDurationMs(executed.durationMs())
                                                                        .setAuditRecord(executed.auditId());
        final ProcessResult process = executed.outcome().process();
        if (process != null) {
            response.setExitCode(process.exitCode()).setStdout(process.stdout()).setStderr(process.stderr())
                    .setTruncated(process.truncated()).setJailed(process.jailed());
        } else {
            response.setTruncated(executed.outcome().output().getFieldsOrDefault(
                    "truncated", Value.getDefaultInstance()).getBoolValue());
        }
        return response.build();
    }

    /**
     * Runs the call. Throws {@link DomainException}: NOT_FOUND for an unknown tool, INVALID_ARGUMENT for
     * arguments outside its contract, EVA-OS's refusal ({@link ActionRefusal}, with the audit record),
     * CONFLICT for a tool that needs the jail on a machine where it cannot be made (refused before EVA-OS is
     * even asked), RATE_LIMITED past the workspace quota (both with metadata tool); or whatever the gate or
     * tool threw. A program killed
     * by its own timeout is a result, not an error.
     */
    private Executed execute(Request request) {
        final long start = System.nanoTime();
        final Handler<?> handler = tools.find(request.tool())
                                        .orElseThrow(() -> DomainException.notFound("tool", request.tool()));
        AuthorizeActionResponse decision = null;
        try {
            final Workspace workspace = workspaces.forTenant(request.principal().tenant());
            final Path cwd = workspace.resolve(request.workingDirectory(), "working_directory");
            if (!Files.isDirectory(cwd)) {
                throw DomainException.invalidArgument("working_directory", "not a directory: "
                                                                           + request.workingDirectory());
            }
            if (tools.needsJail(request.tool())) {
                jail.require(request.tool());
            }
            final Message arguments = handler.parse(request.arguments());
            decision = gate.authorize(request.principal(), request.tool(), request.arguments(),
                                      request.workingDirectory(), request.sessionId(), request.approvalId());
            if (decision.getVerdict() != Verdict.VERDICT_ALLOW) {
                final String id = record(request, decision, "REFUSED", 0, start, decision.getReason());
                throw ActionRefusal.of(decision).with("audit_record", id);
            }
            // Re-resolved at the moment of use: the directory may have been swapped since the check.
            final ToolOutcome outcome = handler.run(arguments, new ToolCall(
                    workspace, workspace.resolve(request.workingDirectory(), "working_directory"),
                    request.sessionId(), request.principal(), decision.getRisk(), request.budget()));
            final int exit = outcome.process() == null ? 0 : outcome.process().exitCode();
            final String result = outcome.process() != null && outcome.process().timedOut() ? "TIMEOUT"
                                  : outcome.process() != null && outcome.process().truncated() ? "OK_TRUNCATED" : "OK";
            final String id = record(request, decision, result, exit, start,
                                     result.equals("TIMEOUT") ? "killed by its own timeout" : "");
            return new Executed(outcome, id, (System.nanoTime() - start) / 1_000_000);
        } catch (DomainException e) {
            if (decision != null && decision.getVerdict() != Verdict.VERDICT_ALLOW) {
                throw e; // EVA-OS's refusal, recorded above
            }
            final String outcome = switch (e.code()) {
                case ERROR_CODE_INVALID_ARGUMENT -> "INVALID_ARGUMENT";
                case ERROR_CODE_RATE_LIMITED -> "QUOTA"; // past the workspace quota
                case ERROR_CODE_CONFLICT -> e.metadata().containsKey("missing_package") ? "NO_JAIL" : "ERROR";
                default -> "ERROR";
            };
            record(request, decision, outcome, 0, start, e.getMessage());
            throw outcome.equals("INVALID_ARGUMENT") ? e : e.with("tool", request.tool());
        } catch (RuntimeException e) {
            record(request, decision, "ERROR", 0, start, String.valueOf(e.getMessage()));
            throw e;
        }
    }

    private String record(Request request, AuthorizeActionResponse decision, String outcome, int exitCode,
                          long start, String detail) {
        return audit.append(new AuditLog.Entry(
                "", Instant.now(), request.principal().audit(), request.sessionId(), request.correlationId(),
                request.tool(), decision == null ? "" : decision.getActionHash(), request.workingDirectory(),
                decision == null ? "NOT_ASKED" : decision.getVerdict().name(),
                decision == null ? "" : decision.getRule(),
                decision != null && decision.hasApproval() ? decision.getApproval().getApprovalId()
                                                           : request.approvalId(),
                outcome, exitCode, (System.nanoTime() - start) / 1_000_000, detail)).id();
    }
}
