package ai.sonia.runtime;

import java.util.ArrayList;
import java.util.List;

/**
 * Background work a service begins once it serves (loading a model, say). While several services start in one
 * JVM ({@code StackMain}), it waits until all of them serve, so that it does not take the CPU from the starts
 * still under way (on two cores, the embedding model's load slowed the other five); otherwise it begins at once.
 * Readiness is unchanged: a service reports such work on {@code /readyz} until it is done.
 */
public final class StartupWork {

    private static final Object lock = new Object();
    private static final List<Runnable> held = new ArrayList<>();
    private static int starting;

    /** Runs {@code work} now, or when the starts under way in this JVM are over ({@link #release}). */
    public static void afterStart(Runnable work) {
        synchronized (lock) {
            if (starting > 0) {
                held.add(work);
                return;
            }
        }
        work.run();
    }

    /** Marks a start of several services in this JVM: {@link #afterStart} work waits for {@link #release}. */
    public static void hold() {
        synchronized (lock) {
            starting++;
        }
    }

    /** Ends a start marked by {@link #hold}; once no start is under way, the held work runs. */
    public static void release() {
        final List<Runnable> run;
        synchronized (lock) {
            if (--starting > 0) {
                return;
            }
            run = List.copyOf(held);
            held.clear();
        }
        run.forEach(Runnable::run);
    }

    private StartupWork() {}
}
