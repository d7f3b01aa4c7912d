package ai.sonia.memory.store;

import java.util.List;

import ai.sonia.memory.domain.Actor;
import ai.sonia.memory.domain.AuditLog;
import ai.sonia.memory.domain.LedgerView;
import ai.sonia.memory.v1.AuditRecord;
import ai.sonia.runtime.store.PostgresPool;

/**
 * The memory ledger's audit log in PostgreSQL's {@code audit_records}, whose trigger refuses any update or
 * delete; {@link PostgresMemoryStore} appends the records of its writes in their own transactions. Record
 * numbers come from a sequence shared by every replica, increasing in the order appends start.
 */
public final class PostgresAuditLog implements AuditLog {

    private final PostgresPool pool;

    PostgresAuditLog(PostgresPool pool) {
        this.pool = pool;
    }

    @Override
    public String recordRestore(String backupId, Actor actor, long nowMs) {
        return pool.inTransaction(
                c -> LedgerSql.appendAudit(c, "RESTORE", "", "", actor, nowMs, "backup_id=" + backupId));
    }

    @Override
    public List<AuditRecord> list(LedgerView view, String memory, long beforeId, int limit) {
        return pool.inTransaction(c -> LedgerSql.audit(c, view, memory, beforeId, limit));
    }
}
