package ai.sonia.gateway.store;

import java.util.List;

import ai.sonia.gateway.domain.AuditLog;

/**
 * The {@link AuditLog} in the PostgreSQL accounts database's {@code audit_events}, whose trigger refuses any
 * change. Its {@code seq} comes from a sequence: increasing in the order appends start, shared by every
 * replica.
 */
public final class PostgresAuditLog implements AuditLog {

    private final PostgresDatabase db;

    public PostgresAuditLog(PostgresDatabase db) {
        this.db = db;
    }

    @Override
    public long append(AuditRow row) {
        return db.inTransaction(tx -> tx.queryLong(
                "INSERT INTO audit_events(tenant, time_ms, kind, success, actor, user_id, username, address, detail)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq", row.tenant(), row.timeMs(), row.kind(),
                row.success() ? 1 : 0, row.actor(), row.userId(), row.username(), row.address(), row.detail()));
    }

    @Override
    public List<AuditRow> page(String tenant, long beforeSeq, int limit) {
        return db.inTransaction(tx -> tx.query(
                rs -> new AuditRow(rs.getLong("seq"), rs.getString("tenant"), rs.getLong("time_ms"), rs.getInt("kind"),
                                   rs.getInt("success") != 0, rs.getString("actor"), rs.getString("user_id"),
                                   rs.getString("username"), rs.getString("address"), rs.getString("detail")),
                "SELECT * FROM audit_events WHERE tenant = ? AND seq < ? ORDER BY seq DESC LIMIT ?",
                tenant, beforeSeq, limit));
    }
}
