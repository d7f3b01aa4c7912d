package ai.sonia.runtime;

import static java.util.Objects.requireNonNull;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The thread factory of every executor Sonia makes, so none is written by hand. */
public final class Threads {

    private static final Logger logger = LoggerFactory.getLogger(Threads.class);

    /**
     * Daemon threads named {@code <prefix>-1}, {@code <prefix>-2}, ... (a JVM never waits for them to exit);
     * an exception that escapes a task is logged (as JSON, with the thread's name), not printed to stderr.
     */
    public static ThreadFactory factory(String prefix) {
        requireNonNull(prefix, "prefix");
        final AtomicInteger count = new AtomicInteger();
        return task -> {
            final Thread thread = new Thread(task, prefix + '-' + count.incrementAndGet());
            thread.setDaemon(true);
            thread.setUncaughtExceptionHandler((t, e) -> logger.error("Uncaught exception in {}", t.getName(), e));
            return thread;
        };
    }

    private Threads() {}
}
