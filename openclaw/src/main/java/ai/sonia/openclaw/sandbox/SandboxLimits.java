package ai.sonia.openclaw.sandbox;

import java.time.Duration;

/**
 * Caps on one spawned program: wall time, captured output, address space, file size and the number
 * of processes (enforced by a pids cgroup where the machine lets us create one).
 */
public record SandboxLimits(Duration defaultTimeout, int outputBytes, long memoryBytes, long fileBytes,
                            int maxProcesses) {

    public SandboxLimits {
        if (defaultTimeout.isNegative() || defaultTimeout.isZero()) {
            throw new IllegalArgumentException("defaultTimeout: " + defaultTimeout + " (expected: > 0)");
        }
        if (outputBytes <= 0 || memoryBytes <= 0 || fileBytes <= 0 || maxProcesses <= 0) {
            throw new IllegalArgumentException("limits must be > 0: " + outputBytes + ", " + memoryBytes + ", "
                                               + fileBytes + ", " + maxProcesses);
        }
    }

    /** 10 s, 1 MiB of output per stream, 1 GiB of address space, 64 MiB files, 64 processes. */
    public static SandboxLimits defaults() {
        return new SandboxLimits(Duration.ofSeconds(10), 1 << 20, 1L << 30, 64L << 20, 64);
    }
}
