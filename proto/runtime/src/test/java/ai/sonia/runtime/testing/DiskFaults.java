package ai.sonia.runtime.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assumptions;

/**
 * A disk that refuses writes, for real: {@code chattr +i} on a data directory and the files in it, so the
 * kernel answers every write, create and truncate with EPERM, as on a read-only remount. This is what
 * crashed the stack with SIGBUS before the stores stopped mapping memory. Permission bits would not do
 * (tests run as root, which ignores them), a bind mount needs privileges the sandbox may not have, and a
 * fault injected at the JDBC layer would not go through SQLite's own I/O paths. Tests are skipped where
 * the file system has no immutable attribute. Closing makes everything writable again; a shutdown hook
 * does the same if a test dies, so {@code target/} can always be cleaned.
 */
public final class DiskFaults implements AutoCloseable {

    private final List<Path> paths;
    private final Thread hook;
    private boolean closed;

    private DiskFaults(List<Path> paths) {
        this.paths = paths;
        hook = new Thread(this::release, "disk-faults-release");
        Runtime.getRuntime().addShutdownHook(hook);
        chattr("+i");
    }

    /** Makes {@code directory} and the files directly in it immutable until {@link #close()}. */
    public static DiskFaults readOnly(Path directory) {
        Assumptions.assumeTrue(supported(directory), "chattr +i does not work on " + directory);
        final List<Path> paths = new ArrayList<>();
        try (Stream<Path> files = Files.list(directory)) {
            files.filter(Files::isRegularFile).forEach(paths::add);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        paths.add(directory);
        return new DiskFaults(paths);
    }

    /** Whether the immutable attribute can be set here (root, a file system that has it, chattr present). */
    public static boolean supported(Path directory) {
        try {
            final Path probe = Files.createTempFile(directory, "chattr", ".probe");
            try {
                return run("chattr", "+i", probe.toString()) && run("chattr", "-i", probe.toString());
            } finally {
                Files.deleteIfExists(probe);
            }
        } catch (IOException e) {
            return false;
        }
    }

    private void chattr(String flag) {
        final List<String> command = new ArrayList<>(List.of("chattr", flag));
        paths.forEach(p -> command.add(p.toString()));
        if (!run(command.toArray(String[]::new))) {
            throw new IllegalStateException("chattr " + flag + " failed on " + paths);
        }
    }

    private synchronized void release() {
        if (!closed) {
            closed = true;
            chattr("-i");
        }
    }

    @Override
    public void close() {
        release();
        Runtime.getRuntime().removeShutdownHook(hook);
    }

    private static boolean run(String... command) {
        try {
            final Process process = new ProcessBuilder(command).redirectErrorStream(true)
                                                              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                                                              .start();
            return process.waitFor(10, TimeUnit.SECONDS) && process.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
