package ai.sonia.openclaw.tools;

import java.nio.file.Path;
import java.time.Duration;

import ai.sonia.openclaw.sandbox.Workspace;
import ai.sonia.runtime.auth.Principal;

/**
 * Where and for whom a tool runs: the caller's tenant's workspace, the real working directory inside it,
 * the session, the principal it acts for, and the time the caller will wait ({@link Duration#ZERO} for no
 * limit).
 */
public record ToolCall(Workspace workspace, Path workingDirectory, String sessionId, Principal principal,
                       Duration budget) {}
