package ai.sonia.gateway.store;

import java.util.List;

import ai.sonia.gateway.domain.AuditLog;
import ai.sonia.runtime.store.PostgresPool;
import ai.sonia.runtime.store.Sql;

/**
 * The {@link AuditLog} in the PostgreSQL accounts database's {@code audit_events} ({@link SqliteAuditLog}'s
 * statements and rows). Its {@code seq} comes from a sequence: increasing in the order appends start, shared by
 * every replica.
 */
public final class PostgresAuditLog implements AuditLog {

    private final PostgresPool db;

    public PostgresAuditLog(PostgresPool db) {
        this.db = db;
    }

    @Override
    public long append(AuditRow row) {
        return db.inTransaction(c -> Sql.queryLong(c, SqliteAuditLog.INSERT + " RETURNING seq", SqliteAuditLog.values(row)));
    }

    @Override
    public List<AuditRow> page(String tenant, long beforeSeq, int limit) {
        return db.inTransaction(c -> Sql.query(c, SqliteAuditLog::read, SqliteAuditLog.PAGE, tenant, beforeSeq, limit));
    }
}
