package ai.sonia.openclaw.store;

import java.sql.SQLException;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

import com.zaxxer.hikari.HikariDataSource;

import ai.sonia.openclaw.domain.AuditLog;
import ai.sonia.runtime.store.Postgres;

/**
 * The audit of every tool call on PostgreSQL (with {@code store.engine} postgres), shared by every openclaw
 * replica: the tables of {@link SqliteAuditLog}, whose {@code audit} a trigger keeps append-only (no update,
 * delete or truncate). Its {@code seq} comes from a sequence, increasing in the order appends start; page keys
 * are (time_ms, seq). Schema: the Flyway migrations of {@code db/postgresql/openclaw/audit}.
 */
public final class PostgresAuditLog implements AuditLog {

    private static final String POOL = "openclaw-audit";

    private final HikariDataSource pool;
    private volatile Consumer<Entry> listener = entry -> { };

    private PostgresAuditLog(HikariDataSource pool) {
        this.pool = pool;
    }

    /**
     * Connects to the settings' database and migrates the audit's schema.
     *
     * @throws IllegalStateException when the database cannot be reached (naming it) or migrated
     */
    public static PostgresAuditLog open(Postgres.Settings settings) {
        return new PostgresAuditLog(Postgres.openMigrated(settings, POOL, SqliteAuditLog.MIGRATIONS));
    }

    /** Also hands every appended record to {@code listener} (metrics); returns this. */
    public PostgresAuditLog onAppend(Consumer<Entry> listener) {
        this.listener = listener;
        return this;
    }

    @Override
    public Entry append(Entry entry) {
        final Entry stored = AuditRows.stored(entry);
        run("cannot append to the audit log", c -> {
            AuditRows.POSTGRES.insert(c, stored);
            return null;
        });
        listener.accept(stored);
        return stored;
    }

    @Override
    public Page list(List<String> after, int limit) {
        return run("cannot read the audit log", c -> AuditRows.POSTGRES.list(c, after, limit));
    }

    @Override
    public Optional<byte[]> response(String principal, String requestId, long sinceMs) {
        return run("cannot read requests", c -> AuditRows.POSTGRES.response(c, principal, requestId, sinceMs));
    }

    @Override
    public void rememberResponse(String principal, String requestId, byte[] response, long nowMs,
                                 long forgetBeforeMs) {
        run("cannot remember a request", c -> {
            AuditRows.POSTGRES.rememberResponse(c, principal, requestId, response, nowMs, forgetBeforeMs);
            return null;
        });
    }

    @Override
    public void close() {
        pool.close();
    }

    // Each step in one transaction (Postgres.inTransaction). A database out of reach is UNAVAILABLE
    // (retriable); anything else is a bug or corruption: INTERNAL, with the cause in the server log.
    private <T> T run(String what, Postgres.Work<T> work) {
        try {
            return Postgres.inTransaction(pool, work);
        } catch (SQLException e) {
            throw Postgres.unavailableOr(e, "openclaw", POOL, new IllegalStateException(what + ": " + e.getMessage(), e));
        }
    }
}
