package ai.sonia.openclaw.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

import org.flywaydb.core.api.migration.JavaMigration;

import ai.sonia.openclaw.domain.AuditLog;
import ai.sonia.openclaw.domain.AuditLog.Entry;
import ai.sonia.openclaw.domain.AuditLog.Page;
import ai.sonia.runtime.store.AppendOnly;

/**
 * The audit and request tables as both engines write and read them. Only their names (PostgreSQL's carry the
 * service's: every service's stores share the database) and the column that orders appends differ
 * ({@code rowid} on SQLite, {@code seq} on PostgreSQL). Page keys are (time_ms, that column).
 */
final class AuditRows {

    /** SQLite's tables. */
    static final AuditRows SQLITE = new AuditRows("audit", "requests", "rowid");
    /** PostgreSQL's tables. */
    static final AuditRows POSTGRES = new AuditRows("openclaw_audit", "openclaw_requests", "seq");

    private final String audit;
    private final String requests;
    private final String order;

    private AuditRows(String audit, String requests, String order) {
        this.audit = audit;
        this.requests = requests;
        this.order = order;
    }

    /** The audit's migration (V3 on both engines) that keeps its table append-only. */
    JavaMigration appendOnly() {
        return AppendOnly.migration("3", audit, "the tool audit is append-only");
    }

    /** The record as stored: an id of its own, the detail cut to {@link AuditLog#MAX_DETAIL}. */
    static Entry stored(Entry entry) {
        final String detail = entry.detail().length() > AuditLog.MAX_DETAIL
                              ? entry.detail().substring(0, AuditLog.MAX_DETAIL) : entry.detail();
        return new Entry(UUID.randomUUID().toString(), entry.time(), entry.principal(), entry.sessionId(),
                         entry.correlationId(), entry.tool(), entry.actionHash(), entry.workingDirectory(),
                         entry.decision(), entry.rule(), entry.approvalId(), entry.outcome(), entry.exitCode(),
                         entry.durationMs(), detail);
    }

    /** Inserts a stored record. */
    void insert(Connection connection, Entry stored) throws SQLException {
        try (PreparedStatement ps = connection.prepareStatement(
                "INSERT INTO " + audit + " (id, time_ms, principal, session_id, correlation_id, tool, action_hash,"
                + " working_directory, decision, rule, approval_id, outcome, exit_code, duration_ms, detail)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
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
        }
    }

    /** {@link AuditLog#list}. */
    Page list(Connection connection, List<String> after, int limit) throws SQLException {
        final String where = after.isEmpty() ? "" : " WHERE time_ms < ? OR time_ms = ? AND " + order + " < ?";
        try (PreparedStatement ps = connection.prepareStatement(
                "SELECT " + order + " AS page_seq, * FROM " + audit + where + " ORDER BY time_ms DESC, " + order
                + " DESC LIMIT ?")) {
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
                    lastSeq = String.valueOf(rs.getLong("page_seq"));
                }
            }
            return new Page(entries, List.of());
        }
    }

    /** {@link AuditLog#response}. */
    Optional<byte[]> response(Connection connection, String principal, String requestId, long sinceMs)
            throws SQLException {
        try (PreparedStatement ps = connection.prepareStatement(
                "SELECT response FROM " + requests + " WHERE principal = ? AND request_id = ? AND create_ms >= ?")) {
            ps.setString(1, principal);
            ps.setString(2, requestId);
            ps.setLong(3, sinceMs);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(rs.getBytes(1)) : Optional.empty();
            }
        }
    }

    /** {@link AuditLog#rememberResponse}. */
    void rememberResponse(Connection connection, String principal, String requestId, byte[] response,
                                 long nowMs, long forgetBeforeMs) throws SQLException {
        try (PreparedStatement forget = connection.prepareStatement(
                "DELETE FROM " + requests + " WHERE create_ms < ?");
             PreparedStatement insert = connection.prepareStatement(
                     "INSERT INTO " + requests + " (principal, request_id, response, create_ms) VALUES (?, ?, ?, ?)"
                     + " ON CONFLICT DO NOTHING")) {
            forget.setLong(1, forgetBeforeMs);
            forget.executeUpdate();
            insert.setString(1, principal);
            insert.setString(2, requestId);
            insert.setBytes(3, response);
            insert.setLong(4, nowMs);
            insert.executeUpdate();
        }
    }
}
