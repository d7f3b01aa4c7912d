package ai.sonia.gateway.store;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;

import org.flywaydb.core.api.migration.JavaMigration;

import ai.sonia.gateway.domain.AuditLog;
import ai.sonia.runtime.store.AppendOnly;

/**
 * The {@link AuditLog} in the accounts database's {@code audit_events}, append-only ({@link #APPEND_ONLY});
 * its statements and rows are {@link PostgresAuditLog}'s too.
 */
public final class SqliteAuditLog implements AuditLog {

    /** The accounts' migration (both engines) that keeps {@code audit_events} append-only. */
    static final JavaMigration APPEND_ONLY = AppendOnly.migration("5", "audit_events", "audit events are append-only");

    static final String INSERT = "INSERT INTO audit_events(tenant, time_ms, kind, success, actor, user_id, username,"
                                 + " address, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";

    static final String PAGE = "SELECT * FROM audit_events WHERE tenant = ? AND seq < ? ORDER BY seq DESC LIMIT ?";

    private final SqliteDatabase db;

    public SqliteAuditLog(SqliteDatabase db) {
        this.db = db;
    }

    @Override
    public long append(AuditRow row) {
        return db.insert(INSERT, values(row));
    }

    @Override
    public List<AuditRow> page(String tenant, long beforeSeq, int limit) {
        return db.query(SqliteAuditLog::read, PAGE, tenant, beforeSeq, limit);
    }

    /** The parameters of {@link #INSERT}. */
    static Object[] values(AuditRow row) {
        return new Object[] {row.tenant(), row.timeMs(), row.kind(), row.success() ? 1 : 0, row.actor(), row.userId(),
                             row.username(), row.address(), row.detail()};
    }

    static AuditRow read(ResultSet rs) throws SQLException {
        return new AuditRow(rs.getLong("seq"), rs.getString("tenant"), rs.getLong("time_ms"), rs.getInt("kind"),
                            rs.getInt("success") != 0, rs.getString("actor"), rs.getString("user_id"),
                            rs.getString("username"), rs.getString("address"), rs.getString("detail"));
    }
}
