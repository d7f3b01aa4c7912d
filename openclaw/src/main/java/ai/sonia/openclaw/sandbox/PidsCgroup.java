package ai.sonia.openclaw.sandbox;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * A cgroup (v1 {@code pids} controller) holding one spawned program and everything it forks: caps the
 * number of processes (a fork bomb hits the wall), and lets us kill every member, even grandchildren
 * that left the process group. Used when the machine lets us create one; otherwise absent.
 */
final class PidsCgroup implements AutoCloseable {

    static final Path PARENT = Path.of("/sys/fs/cgroup/pids/sonia-openclaw");

    private final Path dir;

    private PidsCgroup(Path dir) {
        this.dir = dir;
    }

    /** A new cgroup capped at {@code maxProcesses}, or empty when cgroups are not writable here. */
    static Optional<PidsCgroup> create(int maxProcesses) {
        try {
            Files.createDirectories(PARENT);
            final Path dir = Files.createDirectory(PARENT.resolve(UUID.randomUUID().toString()));
            Files.writeString(dir.resolve("pids.max"), String.valueOf(maxProcesses));
            return Optional.of(new PidsCgroup(dir));
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return Optional.empty();
        }
    }

    /** The file a process writes its pid to, to join. */
    Path procsFile() {
        return dir.resolve("cgroup.procs");
    }

    /**
     * The argv prefix that joins {@code cgroup} and then execs the rest of the command line: a fixed
     * launcher, never user input.
     */
    static List<String> launcher(PidsCgroup cgroup) {
        return List.of("/bin/sh", "-c", "echo $$ > \"$1\" && shift && exec \"$@\"", "sonia-launch",
                       cgroup.procsFile().toString());
    }

    /** Kills every member until none is left (members may fork while we kill). */
    void killAll() {
        for (int round = 0; round < 100; round++) {
            final List<Long> pids = members();
            if (pids.isEmpty()) {
                return;
            }
            pids.forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
            Thread.onSpinWait();
        }
    }

    /** True when the cgroup refused a fork because of its cap. */
    boolean hitProcessCap() {
        return refusedForks() > 0;
    }

    /** How many forks the cap refused so far ({@code pids.events}). */
    long refusedForks() {
        try {
            final String events = Files.readString(dir.resolve("pids.events")).trim();
            return Long.parseLong(events.substring(events.lastIndexOf(' ') + 1));
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
    }

    List<Long> members() {
        try {
            return Files.readAllLines(procsFile()).stream().filter(s -> !s.isBlank()).map(Long::parseLong).toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    @Override
    public void close() {
        killAll();
        try {
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            // Still busy for a moment after the last member died; the kernel frees it when removed later.
            dir.toFile().deleteOnExit();
        }
    }
}
