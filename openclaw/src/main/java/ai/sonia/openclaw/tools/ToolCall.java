package ai.sonia.openclaw.tools;

import java.nio.file.Path;
import java.time.Duration;

import ai.sonia.openclaw.sandbox.Workspace;
import ai.sonia.options.v1.RiskLevel;
import ai.sonia.runtime.auth.Principal;

/**
 * Where and for whom a tool runs: the caller's tenant's workspace, the real working directory inside it,
 * the session, the principal it acts for, the risk EVA-OS gave the call, and the time the caller will
 * wait ({@link Duration#ZERO} for no limit).
 */
public record ToolCall(Workspace workspace, Path workingDirectory, String sessionId, Principal principal,
                       RiskLevel risk, Duration budget) {

    /** Whose sandboxed processes these are: the tenant and the user. */
    public String owner() {
        return owner(principal);
    }

    /** The owner key of a principal's programs. */
    public static String owner(Principal principal) {
        return principal.tenant() + '/' + principal.subject();
    }
}
