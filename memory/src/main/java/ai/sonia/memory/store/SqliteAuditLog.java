package ai.sonia.memory.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

import com.google.protobuf.util.Timestamps;

import ai.sonia.memory.domain.Actor;
import ai.sonia.memory.domain.AuditLog;
import ai.sonia.memory.domain.LedgerView;
import ai.sonia.memory.v1.AuditAction;
import ai.sonia.memory.v1.AuditRecord;

/**
 * The audit log in the ledger's SQLite file ({@code audit_records}, append-only by trigger); the memory
 * store appends the records of its writes in the same transaction through {@link #append}.
 */
public final class SqliteAuditLog implements AuditLog {

    private final LedgerFile file;

    SqliteAuditLog(LedgerFile file) {
        this.file = file;
    }

    @Override
    public String recordRestore(String backupId, Actor actor, long nowMs) {
        return file.write(c -> append(c, "RESTORE", "", "", actor, nowMs, "backup_id=" + backupId));
    }

    /** Appends a record on {@code connection}, in its transaction; returns the record's name. */
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

    /** The action as stored ("STORE", ...: the enum's name without its prefix) as the enum. */
    private static AuditAction action(String stored) {
        try {
            return AuditAction.valueOf("AUDIT_ACTION_" + stored);
        } catch (IllegalArgumentException e) {
            return AuditAction.AUDIT_ACTION_UNSPECIFIED;
        }
    }

    @Override
    public List<AuditRecord> list(LedgerView view, String memory, long beforeId, int limit) {
        return file.read(c -> list(c, view, memory, beforeId, limit));
    }

    private static List<AuditRecord> list(Connection connection, LedgerView view, String memory, long beforeId,
                                          int limit) throws SQLException {
        final StringBuilder sql = new StringBuilder(
                "SELECT id, action, memory, tenant, principal, correlation_id, create_ms, detail"
                + " FROM audit_records WHERE 1 = 1");
        final List<Object> args = new ArrayList<>();
        if (!view.tenant().isEmpty()) {
            sql.append(" AND tenant = ?");
            args.add(view.tenant());
        }
        if (!view.principal().isEmpty()) {
            sql.append(" AND principal = ?");
            args.add(view.principal());
        }
        if (!memory.isEmpty()) {
            sql.append(" AND memory = ?");
            args.add(memory);
        }
        if (beforeId > 0) {
            sql.append(" AND id < ?");
            args.add(beforeId);
        }
        sql.append(" ORDER BY id DESC LIMIT ?");
        args.add(limit);
        try (PreparedStatement query = connection.prepareStatement(sql.toString())) {
            for (int i = 0; i < args.size(); i++) {
                query.setObject(i + 1, args.get(i));
            }
            final List<AuditRecord> records = new ArrayList<>();
            try (ResultSet rs = query.executeQuery()) {
                while (rs.next()) {
                    records.add(AuditRecord.newBuilder()
                                           .setName("auditRecords/" + rs.getLong(1))
                                           .setAction(action(rs.getString(2)))
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
