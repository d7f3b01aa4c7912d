package ai.sonia.openclaw.tools;

import java.nio.file.Path;
import java.time.Duration;

/**
 * Where and for whom a tool runs: the real working directory inside the workspace, the session, and
 * the time the caller will wait ({@link Duration#ZERO} for no limit).
 */
public record ToolCall(Path workingDirectory, String sessionId, Duration budget) {}
