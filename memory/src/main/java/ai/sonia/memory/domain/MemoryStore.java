package ai.sonia.memory.domain;

import java.nio.file.Path;

import ai.sonia.memory.store.AuditLog.Actor;

/** The memory ledger's storage. */
public interface MemoryStore {

    /** Copies the whole ledger, consistently, into the new file {@code target}. */
    void backup(Path target);

    /** Why {@code source} cannot be restored (integrity, schema), or null when it can. */
    String restoreProblem(Path source);

    /** Replaces the whole ledger with the copy in {@code source}, brought up to this build's schema. */
    void restore(Path source);

    /** Records in the audit log that the ledger was restored from {@code backupId}; returns the record's name. */
    String recordRestore(String backupId, Actor actor, long nowMs);

    /** How many memories the ledger holds, in all states. */
    long count();
}
