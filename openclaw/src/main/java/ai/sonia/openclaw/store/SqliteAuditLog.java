package ai.sonia.openclaw.store;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

import ai.sonia.openclaw.domain.AuditLog;
import ai.sonia.runtime.store.Migrations;
import ai.sonia.runtime.store.Sqlite;
import ai.sonia.runtime.store.StoreHealth;

/**
 * The audit of every tool call in SQLite (WAL) under the service's data directory. Page keys are
 * (time_ms, rowid).
 */
public final class SqliteAuditLog implements AuditLog {

    /** The store's location; its PostgreSQL sibling's SQL is under {@code db/postgresql/}. */
    static final String MIGRATIONS = "db/openclaw/audit";

    private final Connection connection;
    private final StoreHealth health;
    private volatile Consumer<Entry> listener = entry -> { };

    public SqliteAuditLog(Path file) {
        try {
            // Every tool call's record is synced before the call counts as audited.
            connection = Sqlite.open(file, "synchronous = FULL");
            Migrations.migrate(connection, MIGRATIONS, null, c -> null, AuditRows.SQLITE.appendOnly());
        } catch (SQLException e) {
            throw new IllegalStateException("cannot open audit log " + file, e);
        }
        health = new StoreHealth(file);
    }

    /** Also hands every appended record to {@code listener} (metrics); returns this. */
    public SqliteAuditLog onAppend(Consumer<Entry> listener) {
        this.listener = listener;
        return this;
    }

    @Override
    public synchronized Entry append(Entry entry) {
        final Entry stored = AuditRows.stored(entry);
        try {
            AuditRows.SQLITE.insert(connection, stored);
        } catch (SQLException e) {
            throw health.unavailableOr(e, new IllegalStateException("cannot append to the audit log", e));
        }
        listener.accept(stored);
        return stored;
    }

    @Override
    public synchronized Page list(List<String> after, int limit) {
        try {
            return AuditRows.SQLITE.list(connection, after, limit);
        } catch (SQLException e) {
            throw health.unavailableOr(e, new IllegalStateException("cannot read the audit log", e));
        }
    }

    @Override
    public synchronized Optional<byte[]> response(String principal, String requestId, long sinceMs) {
        try {
            return AuditRows.SQLITE.response(connection, principal, requestId, sinceMs);
        } catch (SQLException e) {
            throw health.unavailableOr(e, new IllegalStateException("cannot read requests", e));
        }
    }

    @Override
    public synchronized void rememberResponse(String principal, String requestId, byte[] response, long nowMs,
                                              long forgetBeforeMs) {
        try {
            AuditRows.SQLITE.rememberResponse(connection, principal, requestId, response, nowMs, forgetBeforeMs);
        } catch (SQLException e) {
            throw health.unavailableOr(e, new IllegalStateException("cannot remember a request", e));
        }
    }

    @Override
    public synchronized void close() throws SQLException {
        health.close();
        connection.close();
    }
}
