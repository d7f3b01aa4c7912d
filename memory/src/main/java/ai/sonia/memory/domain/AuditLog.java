package ai.sonia.memory.domain;

import java.util.List;

import ai.sonia.memory.v1.AuditRecord;

/**
 * The append-only audit log of the ledger: one record per write. The {@link MemoryStore} appends the
 * records of its own writes in the same transaction; this interface reads them and records what happens to
 * the ledger as a whole.
 */
public interface AuditLog {

    /** Records that the ledger was restored from the backup {@code backupId}; returns the record's name. */
    String recordRestore(String backupId, Actor actor, long nowMs);

    /**
     * The records {@code view} sees (of one memory, unless {@code memory} is empty), newest first, older than
     * the record numbered {@code beforeId} (0 for the newest).
     */
    List<AuditRecord> list(LedgerView view, String memory, long beforeId, int limit);
}
