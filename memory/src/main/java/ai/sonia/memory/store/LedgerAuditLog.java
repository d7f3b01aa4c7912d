package ai.sonia.memory.store;

import java.util.List;

import org.flywaydb.core.api.migration.JavaMigration;

import ai.sonia.memory.domain.Actor;
import ai.sonia.memory.domain.AuditLog;
import ai.sonia.memory.domain.LedgerView;
import ai.sonia.memory.v1.AuditRecord;
import ai.sonia.runtime.store.AppendOnly;

/**
 * The audit log in the ledger's {@code audit_records}, on either engine ({@link LedgerStore}), append-only
 * ({@link #APPEND_ONLY}); the memory store appends the records of its writes in the same transaction
 * ({@link LedgerSql#appendAudit}). On PostgreSQL record numbers come from a sequence shared by every replica,
 * increasing in the order appends start.
 */
final class LedgerAuditLog implements AuditLog {

    /** The ledger's migration (both engines) that keeps {@code audit_records} append-only. */
    static final JavaMigration APPEND_ONLY = AppendOnly.migration("4", "audit_records", "audit records are append-only");

    private final LedgerStore store;

    LedgerAuditLog(LedgerStore store) {
        this.store = store;
    }

    @Override
    public String recordRestore(String backupId, Actor actor, long nowMs) {
        return store.write(c -> LedgerSql.appendAudit(c, "RESTORE", "", "", actor, nowMs, "backup_id=" + backupId));
    }

    @Override
    public List<AuditRecord> list(LedgerView view, String memory, long beforeId, int limit) {
        return store.read(c -> LedgerSql.audit(c, view, memory, beforeId, limit));
    }
}
