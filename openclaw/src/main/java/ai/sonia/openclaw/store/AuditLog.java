package ai.sonia.openclaw.store;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import ai.sonia.runtime.store.Sqlite;
import ai.sonia.runtime.store.StoreHealth;

/**
 * Append-only audit of every tool call (who, what, the decision and its rule, the outcome, how long),
 * in SQLite (WAL) under the service's data directory.
 */
public final class AuditLog implements AutoCloseable {

    private final Connection connection;
    private final StoreHealth health;
    private volatile java.util.function.Consumer<Entry> listener = entry -> { };

    /** One audit record. */
    public record Entry(String id, Instant time, String principal, String sessionId, String correlationId,
                        String tool, String actionHash, String workingDirectory, String decision, String rule,
                        String approvalId, String outcome, int exitCode, long durationMs, String detail) {}

    public AuditLog(Path file) {
        try {
            // Every tool call's record is synced before the call counts as audited.
            connection = Sqlite.open(file, "synchronous = FULL");
            try (Statement s = connection.createStatement()) {
                s.execute("""
                        CREATE TABLE IF NOT EXISTS audit (
                          id TEXT PRIMARY KEY, time_ms INTEGER NOT NULL, principal TEXT NOT NULL,
                          session_id TEXT NOT NULL, correlation_id TEXT NOT NULL, tool TEXT NOT NULL,
                          action_hash TEXT NOT NULL, working_directory TEXT NOT NULL, decision TEXT NOT NULL,
                          rule TEXT NOT NULL, approval_id TEXT NOT NULL, outcome TEXT NOT NULL,
                          exit_code INTEGER NOT NULL, duration_ms INTEGER NOT NULL, detail TEXT NOT NULL)""");
                s.execute("CREATE INDEX IF NOT EXISTS audit_time ON audit(time_ms)");
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot open audit log " + file, e);
        }
        health = new StoreHealth(file);
    }

    /** Also hands every appended record to {@code listener} (metrics); returns this. */
    public AuditLog onAppend(java.util.function.Consumer<Entry> listener) {
        this.listener = listener;
        return this;
    }

    /** Appends a record; returns it with its new id. */
    public synchronized Entry append(Entry entry) {
        final Entry stored = new Entry(UUID.randomUUID().toString(), entry.time(), entry.principal(),
                                       entry.sessionId(), entry.correlationId(), entry.tool(), entry.actionHash(),
                                       entry.workingDirectory(), entry.decision(), entry.rule(), entry.approvalId(),
                                       entry.outcome(), entry.exitCode(), entry.durationMs(),
                                       entry.detail().length() > 2000 ? entry.detail().substring(0, 2000)
                                                                      : entry.detail());
        try (PreparedStatement ps = connection.prepareStatement(
                "INSERT INTO audit VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")) {
            ps.setString(1, stored.id());
            ps.setLong(2, stored.time().toEpochMilli());
            ps.setString(3, stored.principal());
            ps.setString(4, stored.sessionId());
            ps.setString(5, stored.correlationId());
            ps.setString(6, stored.tool());
            ps.setString(7, stored.actionHash());
            ps.setString(8, stored.workingDirectory());
            ps.setString(9, stored.decision());
            ps.setString(10, stored.rule());
            ps.setString(11, stored.approvalId());
            ps.setString(12, stored.outcome());
            ps.setInt(13, stored.exitCode());
            ps.setLong(14, stored.durationMs());
            ps.setString(15, stored.detail());
            ps.executeUpdate();
            listener.accept(stored);
            return stored;
        } catch (SQLException e) {
            throw health.unavailableOr(e, new IllegalStateException("cannot append to the audit log", e));
        }
    }

    /** The newest records first. */
    public synchronized List<Entry> recent(int limit) {
        try (PreparedStatement ps = connection.prepareStatement(
                "SELECT * FROM audit ORDER BY time_ms DESC, rowid DESC LIMIT ?")) {
            ps.setInt(1, limit);
            final List<Entry> entries = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    entries.add(new Entry(rs.getString(1), Instant.ofEpochMilli(rs.getLong(2)), rs.getString(3),
                                          rs.getString(4), rs.getString(5), rs.getString(6), rs.getString(7),
                                          rs.getString(8), rs.getString(9), rs.getString(10), rs.getString(11),
                                          rs.getString(12), rs.getInt(13), rs.getLong(14), rs.getString(15)));
                }
            }
            return entries;
        } catch (SQLException e) {
            throw health.unavailableOr(e, new IllegalStateException("cannot read the audit log", e));
        }
    }

    @Override
    public synchronized void close() throws SQLException {
        health.close();
        connection.close();
    }
}
