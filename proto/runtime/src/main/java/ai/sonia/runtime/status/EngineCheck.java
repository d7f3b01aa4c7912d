package ai.sonia.runtime.status;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.linecorp.armeria.common.annotation.Nullable;

import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.cluster.SharedEngine;
import ai.sonia.runtime.store.Postgres;

/**
 * A {@code /readyz} condition on an engine the service's state lives on (the PostgreSQL of
 * {@code store.engine: postgres}, the Redis of {@code shared.engine: redis}): a cheap ping with a short timeout,
 * whose answer is kept for {@value #FRESH_MS} ms so that probes never hammer the engine. Pings run on a daemon
 * thread, never on the prober's (an event loop): a stale answer is returned while the next ping is under way,
 * so the probe that first sees an engine go away or come back may still get the previous answer.
 */
public final class EngineCheck implements Readiness.Check {

    private static final Logger logger = LoggerFactory.getLogger(EngineCheck.class);
    /** How long an answer is kept. */
    static final long FRESH_MS = 1_000;
    private static final ExecutorService pings = Executors.newSingleThreadExecutor(r -> {
        final Thread thread = new Thread(r, "sonia-engine-ping");
        thread.setDaemon(true);
        return thread;
    });

    /** One ping of an engine; throws when it cannot be reached. */
    @FunctionalInterface
    public interface Ping {
        void ping() throws Exception;
    }

    private final String engine;
    private final Ping ping;
    private final LongSupplier nanoTime;
    private final AtomicBoolean pinging = new AtomicBoolean();
    private volatile long checkedNanos;
    @Nullable
    private volatile String problem;

    /**
     * A check of {@code engine} (its name and where it is, e.g. {@code "postgres jdbc:postgresql://db/sonia"},
     * never a credential), pinged once now, on the caller's thread.
     */
    public EngineCheck(String engine, Ping ping) {
        this(engine, ping, System::nanoTime);
    }

    EngineCheck(String engine, Ping ping, LongSupplier nanoTime) {
        this.engine = requireNonNull(engine, "engine");
        this.ping = requireNonNull(ping, "ping");
        this.nanoTime = requireNonNull(nanoTime, "nanoTime");
        refresh();
    }

    /** The checks of the engines {@code config} selects: none on a single machine. */
    public static List<EngineCheck> of(StackConfig config) {
        final List<EngineCheck> checks = new ArrayList<>();
        final Postgres.Settings postgres = Postgres.from(config);
        if (postgres != null) {
            checks.add(new EngineCheck("postgres " + postgres.shownUrl(), () -> Postgres.ping(postgres)));
        }
        SharedEngine.redis(config).ifPresent(redis -> checks.add(
                new EngineCheck("redis " + SharedEngine.shownUrl(config), redis::ping)));
        return checks;
    }

    /** The engine's name, and where it is. */
    public String engine() {
        return engine;
    }

    @Override
    @Nullable
    public String problem() {
        if (TimeUnit.NANOSECONDS.toMillis(nanoTime.getAsLong() - checkedNanos) >= FRESH_MS
            && pinging.compareAndSet(false, true)) {
            try {
                pings.execute(this::refresh);
            } catch (RuntimeException e) {
                pinging.set(false);
            }
        }
        return problem;
    }

    private void refresh() {
        String now;
        try {
            ping.ping();
            now = null;
        } catch (Exception e) {
            now = engine + " cannot be reached: " + reason(e);
        }
        final String before = problem;
        if (now != null && before == null) {
            logger.atWarn().addKeyValue("engine", engine).log("{}", now);
        } else if (now == null && before != null) {
            logger.atInfo().addKeyValue("engine", engine).log("{} can be reached again", engine);
        }
        problem = now;
        checkedNanos = nanoTime.getAsLong();
        pinging.set(false);
    }

    private static String reason(Throwable e) {
        Throwable cause = e;
        while (cause.getCause() != null && cause.getCause() != cause) {
            cause = cause.getCause();
        }
        final String message = cause.getMessage();
        return message == null || message.isBlank() ? cause.getClass().getSimpleName() : message;
    }
}
