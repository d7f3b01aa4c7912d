package ai.sonia.runtime.status;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import com.linecorp.armeria.server.healthcheck.HealthChecker;
import com.linecorp.armeria.server.healthcheck.ListenableHealthChecker;

/**
 * The service's own readiness ({@link Readiness#localProblems()}: a store that cannot write, an index or
 * engine still loading) as the health of its {@code grpc.health.v1.Health}: {@code Check} answers
 * NOT_SERVING while there is a problem, computed at each call; {@code Watch} streams hear of a change
 * within {@link #WATCH_INTERVAL_MS}. Callers' dependency probes ({@code /v1/deps}, {@code /status}) and
 * recovery watches thereby see a store fault, not just {@code /readyz}.
 */
public final class ReadinessHealthChecker implements ListenableHealthChecker, AutoCloseable {

    static final long WATCH_INTERVAL_MS = 500;
    private static final ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(r -> {
        final Thread thread = new Thread(r, "sonia-health-watch");
        thread.setDaemon(true);
        return thread;
    });

    private final Readiness readiness;
    private final List<Consumer<? super HealthChecker>> listeners = new CopyOnWriteArrayList<>();
    private final ScheduledFuture<?> task;
    private volatile boolean last = true;

    public ReadinessHealthChecker(Readiness readiness) {
        this.readiness = readiness;
        task = ticker.scheduleWithFixedDelay(this::tick, WATCH_INTERVAL_MS, WATCH_INTERVAL_MS, TimeUnit.MILLISECONDS);
    }

    @Override
    public boolean isHealthy() {
        return readiness.localProblems().isEmpty();
    }

    private void tick() {
        final boolean now = isHealthy();
        if (now != last) {
            last = now;
            listeners.forEach(listener -> listener.accept(this));
        }
    }

    @Override
    public void addListener(Consumer<? super HealthChecker> listener) {
        listeners.add(listener);
    }

    @Override
    public void removeListener(Consumer<?> listener) {
        listeners.remove(listener);
    }

    @Override
    public void close() {
        task.cancel(false);
    }
}
