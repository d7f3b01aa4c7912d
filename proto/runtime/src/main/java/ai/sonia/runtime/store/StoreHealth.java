package ai.sonia.runtime.store;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.linecorp.armeria.common.annotation.Nullable;

/**
 * Whether one SQLite database can be written, as its store last found out. A store reports each
 * storage fault here ({@link #unavailableOr}); from then on the database counts as unwritable, the
 * service's {@code /readyz} names it, and a probe writes the database's header once a second through its
 * own connection (reopened after each failure) until a write succeeds, which makes it writable again.
 * Nothing else is needed to recover: the store's own connections work again as soon as the disk does.
 */
public final class StoreHealth implements AutoCloseable {

    private static final Logger logger = LoggerFactory.getLogger(StoreHealth.class);
    private static final long PROBE_INTERVAL_MS = 1_000;
    private static final Set<StoreHealth> OPEN = ConcurrentHashMap.newKeySet();
    private static final ScheduledExecutorService probes = Executors.newSingleThreadScheduledExecutor(r -> {
        final Thread thread = new Thread(r, "sonia-store-probe");
        thread.setDaemon(true);
        return thread;
    });

    private final Path file;
    private final String service;
    private final String store;
    @Nullable
    private volatile String problem;
    @Nullable
    private ScheduledFuture<?> probing;
    private final Object probeLock = new Object();
    @Nullable
    private Connection probeConnection; // guarded by probeLock
    private volatile boolean closed;

    /** Tracks the database at {@code file}, which lives in {@code <data>/<service>/}. */
    public StoreHealth(Path file) {
        this.file = file.toAbsolutePath().normalize();
        store = this.file.getFileName().toString();
        final Path parent = this.file.getParent();
        service = parent == null ? store : parent.getFileName().toString();
        OPEN.add(this);
    }

    /**
     * The exception to throw for a failed statement: a {@link StoreUnavailableException} when the error is
     * a storage fault (and the database now counts as unwritable), else {@code otherwise}.
     */
    public RuntimeException unavailableOr(Exception e, RuntimeException otherwise) {
        if (!(e instanceof SQLException sql) || !Sqlite.isStorageFault(sql)) {
            return otherwise;
        }
        final String reason = Sqlite.describe(sql);
        failed(reason);
        return new StoreUnavailableException(service, store, reason, e);
    }

    /** Records that the database could not be written, and starts probing it until it can. */
    public synchronized void failed(String reason) {
        if (closed) {
            return;
        }
        if (problem == null) {
            logger.atWarn().addKeyValue("store", store).addKeyValue("reason", reason)
                  .log("{} of {} cannot be written: {}", store, service, reason);
        }
        problem = reason;
        if (probing == null) {
            probing = probes.scheduleWithFixedDelay(this::probe, PROBE_INTERVAL_MS, PROBE_INTERVAL_MS,
                                                    TimeUnit.MILLISECONDS);
        }
    }

    /** Why the database cannot be written now, or null when it can. */
    @Nullable
    public String problem() {
        final String current = problem;
        return current == null ? null : store + " cannot be written: " + current;
    }

    /** The database file. */
    public Path file() {
        return file;
    }

    /** The problems of every open database under {@code directory} (a service's data directory). */
    public static List<String> problemsUnder(Path directory) {
        final Path dir = directory.toAbsolutePath().normalize();
        final List<String> problems = new ArrayList<>();
        for (StoreHealth health : OPEN) {
            final String problem = health.problem();
            if (problem != null && health.file.startsWith(dir)) {
                problems.add(problem);
            }
        }
        problems.sort(null);
        return problems;
    }

    /** Tries one real write (the header's user_version, rewritten unchanged) through the probe connection. */
    void probe() {
        synchronized (probeLock) {
            probeOnce();
        }
    }

    private void probeOnce() {
        if (closed || problem == null) {
            return;
        }
        try {
            if (probeConnection == null) {
                probeConnection = Sqlite.open(file, "busy_timeout = 1000");
            }
            try (Statement statement = probeConnection.createStatement()) {
                statement.execute("BEGIN IMMEDIATE");
                try {
                    final int version;
                    try (ResultSet rs = statement.executeQuery("PRAGMA user_version")) {
                        version = rs.next() ? rs.getInt(1) : 0;
                    }
                    statement.execute("PRAGMA user_version = " + version);
                    statement.execute("COMMIT");
                } catch (SQLException e) {
                    rollbackQuietly(statement);
                    throw e;
                }
            }
            logger.atInfo().addKeyValue("store", store).log("{} of {} can be written again", store, service);
            synchronized (this) {
                problem = null;
                stopProbing();
            }
            closeProbeConnection();
        } catch (SQLException | RuntimeException e) {
            final String reason = e instanceof SQLException sql ? Sqlite.describe(sql) : String.valueOf(e.getMessage());
            problem = reason;
            closeProbeConnection();
        }
    }

    private static void rollbackQuietly(Statement statement) {
        try {
            statement.execute("ROLLBACK");
        } catch (SQLException ignored) {
            // The failed COMMIT already ended the transaction.
        }
    }

    private void stopProbing() {
        if (probing != null) {
            probing.cancel(false);
            probing = null;
        }
    }

    /** Closes the probe's connection (under the probe lock). */
    private void closeProbeConnection() {
        if (probeConnection != null) {
            try {
                probeConnection.close();
            } catch (SQLException ignored) {
                // A connection to a failing disk: nothing more to do with it.
            }
            probeConnection = null;
        }
    }

    /** Stops tracking (the store closed). */
    @Override
    public void close() {
        synchronized (this) {
            closed = true;
            OPEN.remove(this);
            stopProbing();
        }
        synchronized (probeLock) {
            closeProbeConnection();
        }
    }
}
