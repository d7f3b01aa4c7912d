package ai.sonia.openclaw.tools;

import java.nio.file.Path;

/** Where and for whom a tool runs: the real working directory inside the workspace, and the session. */
public record ToolCall(Path workingDirectory, String sessionId) {}
