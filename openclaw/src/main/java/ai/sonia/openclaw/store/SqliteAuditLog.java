package ai.sonia.openclaw.store;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

import ai.sonia.openclaw.domain.AuditLog;
import ai.sonia.runtime.store.Migrations;
import ai.sonia.runtime.store.Sqlite;
import ai.sonia.runtime.store.StoreHealth;

/**
 * The audit of every tool call in SQLite (WAL) under the service's data directory. Page keys are
 * (time_ms, rowid).
 */
public final class SqliteAuditLog implements AuditLog {

    private final Connection connection;
    private final StoreHealth health;
    private volatile java.util.function.Consumer<Entry> listener = entry -> { };

    public SqliteAuditLog(Path file) {
        try {
            // Every tool call's record is synced before the call counts as audited.
            connection = Sqlite.open(file, "synchronous = FULL");
            Migrations.migrate(connection, "db/openclaw/audit");
        } catch (SQLException e) {
            throw new IllegalStateException("cannot open audit log " + file, e);
        }
        health = new StoreHealth(file);
    }

    /** Also hands every appended record to {@code listener} (metrics); returns this. */
    public SqliteAuditLog onAppend(java.util.function.Consumer<Entry> listener) {
        this.listener = listener;
        return this;
    }

    @Override
    public synchronized Entry append(Entry entry) {
        final Entry stored = new Entry(UUID.randomUUID().toString(), entry.time(), entry.principal(),
                                       entry.sessionId(), entry.correlationId(), entry.tool(), entry.actionHash(),
                                       entry.workingDirectory(), entry.decision(), entry.rule(), entry.approvalId(),
                                       entry.outcome(), entry.exitCode(), entry.durationMs(),
                                       entry.detail().length() > MAX_DETAIL ? entry.detail().substring(0, MAX_DETAIL)
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

    @Override
    public synchronized Page list(List<String> after, int limit) {
        final String where = after.isEmpty() ? "" : " WHERE time_ms < ? OR time_ms = ? AND rowid < ?";
        try (PreparedStatement ps = connection.prepareStatement(
                "SELECT rowid AS seq, * FROM audit" + where + " ORDER BY time_ms DESC, rowid DESC LIMIT ?")) {
            int i = 1;
            if (!after.isEmpty()) {
                ps.setLong(i++, Long.parseLong(after.get(0)));
                ps.setLong(i++, Long.parseLong(after.get(0)));
                ps.setLong(i++, Long.parseLong(after.get(1)));
            }
            ps.setInt(i, limit + 1);
            String lastSeq = "";
            final List<Entry> entries = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    if (entries.size() == limit) {
                        final Entry last = entries.get(limit - 1);
                        return new Page(entries, List.of(String.valueOf(last.time().toEpochMilli()), lastSeq));
                    }
                    entries.add(new Entry(rs.getString("id"), Instant.ofEpochMilli(rs.getLong("time_ms")),
                                          rs.getString("principal"), rs.getString("session_id"),
                                          rs.getString("correlation_id"), rs.getString("tool"),
                                          rs.getString("action_hash"), rs.getString("working_directory"),
                                          rs.getString("decision"), rs.getString("rule"), rs.getString("approval_id"),
                                          rs.getString("outcome"), rs.getInt("exit_code"), rs.getLong("duration_ms"),
                                          rs.getString("detail")));
                    lastSeq = String.valueOf(rs.getLong("seq"));
                }
            }
            return new Page(entries, List.of());
        } catch (SQLException e) {
            throw health.unavailableOr(e, new IllegalStateException("cannot read the audit log", e));
        }
    }

    @Override
    public synchronized Optional<byte[]> response(String principal, String requestId, long sinceMs) {
        try (PreparedStatement ps = connection.prepareStatement(
                "SELECT response FROM requests WHERE principal = ? AND request_id = ? AND create_ms >= ?")) {
            ps.setString(1, principal);
            ps.setString(2, requestId);
            ps.setLong(3, sinceMs);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(rs.getBytes(1)) : Optional.empty();
            }
        } catch (SQLException e) {
            throw health.unavailableOr(e, new IllegalStateException("cannot read requests", e));
        }
    }

    @Override
    public synchronized void rememberResponse(String principal, String requestId, byte[] response, long nowMs,
                                              long forgetBeforeMs) {
        try (PreparedStatement forget = connection.prepareStatement("DELETE FROM requests WHERE create_ms < ?");
             PreparedStatement insert = connection.prepareStatement(
                     "INSERT OR IGNORE INTO requests (principal, request_id, response, create_ms) VALUES (?, ?, ?, ?)")) {
            forget.setLong(1, forgetBeforeMs);
            forget.executeUpdate();
            insert.setString(1, principal);
            insert.setString(2, requestId);
            insert.setBytes(3, response);
            insert.setLong(4, nowMs);
            insert.executeUpdate();
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
