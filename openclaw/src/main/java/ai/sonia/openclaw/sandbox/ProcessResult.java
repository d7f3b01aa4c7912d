package ai.sonia.openclaw.sandbox;

/** What a sandboxed program did. {@code killedBy} is empty, "timeout" or "output_limit". */
public record ProcessResult(int exitCode, String stdout, String stderr, boolean truncated, String killedBy,
                            boolean jailed, boolean processCapHit, long durationMs) {

    /** True when the timeout killed it. */
    public boolean timedOut() {
        return "timeout".equals(killedBy);
    }
}
