package ai.sonia.openclaw.store;

import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

import ai.sonia.openclaw.domain.AuditLog;
import ai.sonia.runtime.store.Postgres;
import ai.sonia.runtime.store.PostgresPool;

/**
 * The audit of every tool call on PostgreSQL (with {@code store.engine} postgres), shared by every openclaw
 * replica: the tables of {@link SqliteAuditLog}, whose {@code audit} a trigger keeps append-only (no update,
 * delete or truncate). Its {@code seq} comes from a sequence, increasing in the order appends start; page keys
 * are (time_ms, seq). Schema: the Flyway migrations of {@code db/postgresql/openclaw/audit}.
 */
public final class PostgresAuditLog implements AuditLog {

    private static final String POOL = "openclaw-audit";

    private final PostgresPool pool;
    private volatile Consumer<Entry> listener = entry -> { };

    private PostgresAuditLog(PostgresPool pool) {
        this.pool = pool;
    }

    /**
     * Connects to the settings' database and migrates the audit's schema.
     *
     * @throws IllegalStateException when the database cannot be reached (naming it) or migrated
     */
    public static PostgresAuditLog open(Postgres.Settings settings) {
        return new PostgresAuditLog(PostgresPool.open(settings, POOL, SqliteAuditLog.MIGRATIONS, "openclaw", POOL,
                                                      AuditRows.POSTGRES.appendOnly()));
    }

    /** Also hands every appended record to {@code listener} (metrics); returns this. */
    public PostgresAuditLog onAppend(Consumer<Entry> listener) {
        this.listener = listener;
        return this;
    }

    @Override
    public Entry append(Entry entry) {
        final Entry stored = AuditRows.stored(entry);
        pool.inTransaction(c -> {
            AuditRows.POSTGRES.insert(c, stored);
            return null;
        });
        listener.accept(stored);
        return stored;
    }

    @Override
    public Page list(List<String> after, int limit) {
        return pool.inTransaction(c -> AuditRows.POSTGRES.list(c, after, limit));
    }

    @Override
    public Optional<byte[]> response(String principal, String requestId, long sinceMs) {
        return pool.inTransaction(c -> AuditRows.POSTGRES.response(c, principal, requestId, sinceMs));
    }

    @Override
    public void rememberResponse(String principal, String requestId, byte[] response, long nowMs,
                                 long forgetBeforeMs) {
        pool.inTransaction(c -> {
            AuditRows.POSTGRES.rememberResponse(c, principal, requestId, response, nowMs, forgetBeforeMs);
            return null;
        });
    }

    @Override
    public void close() {
        pool.close();
    }
}
