package ai.sonia.memory.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

import com.google.protobuf.util.Timestamps;

import ai.sonia.memory.v1.AuditRecord;

/** The append-only audit log: one record per write, in the write's own transaction. */
public final class AuditLog {

    /** Who asked for a write, and under which correlation id. */
    public record Actor(String principal, String correlationId) {}

    private AuditLog() {}

    /** Appends a record; returns its name. */
    static String append(Connection connection, String action, String memory, String tenant, Actor actor,
                         long nowMs, String detail) throws SQLException {
        try (PreparedStatement insert = connection.prepareStatement(
                "INSERT INTO audit_records (action, memory, tenant, principal, correlation_id, create_ms, detail)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?)")) {
            insert.setString(1, action);
            insert.setString(2, memory);
            insert.setString(3, tenant);
            insert.setString(4, actor.principal());
            insert.setString(5, actor.correlationId());
            insert.setLong(6, nowMs);
            insert.setString(7, detail);
            insert.executeUpdate();
        }
        try (PreparedStatement last = connection.prepareStatement("SELECT last_insert_rowid()");
             ResultSet rs = last.executeQuery()) {
            rs.next();
            return "auditRecords/" + rs.getLong(1);
        }
    }

    /** The records {@code view} sees, newest first, older than {@code beforeId} (0 for the newest). */
    public static List<AuditRecord> list(Connection connection, LedgerView view, String memory, long beforeId,
                                         int limit) throws SQLException {
        final StringBuilder sql = new StringBuilder(
                "SELECT id, action, memory, tenant, principal, correlation_id, create_ms, detail"
                + " FROM audit_records WHERE 1 = 1");
        if (!view.tenant().isEmpty()) {
            sql.append(" AND tenant = ?");
        }
        if (!view.principal().isEmpty()) {
            sql.append(" AND principal = ?");
        }
        if (!memory.isEmpty()) {
            sql.append(" AND memory = ?");
        }
        if (beforeId > 0) {
            sql.append(" AND id < ?");
        }
        sql.append(" ORDER BY id DESC LIMIT ?");
        try (PreparedStatement query = connection.prepareStatement(sql.toString())) {
            int index = 1;
            if (!view.tenant().isEmpty()) {
                query.setString(index++, view.tenant());
            }
            if (!view.principal().isEmpty()) {
                query.setString(index++, view.principal());
            }
            if (!memory.isEmpty()) {
                query.setString(index++, memory);
            }
            if (beforeId > 0) {
                query.setLong(index++, beforeId);
            }
            query.setInt(index, limit);
            final List<AuditRecord> records = new ArrayList<>();
            try (ResultSet rs = query.executeQuery()) {
                while (rs.next()) {
                    records.add(AuditRecord.newBuilder()
                                           .setName("auditRecords/" + rs.getLong(1))
                                           .setAction(rs.getString(2))
                                           .setMemory(rs.getString(3))
                                           .setTenant(rs.getString(4))
                                           .setPrincipal(rs.getString(5))
                                           .setCorrelationId(rs.getString(6))
                                           .setCreateTime(Timestamps.fromMillis(rs.getLong(7)))
                                           .setDetail(rs.getString(8))
                                           .build());
                }
            }
            return records;
        }
    }
}
