package ai.sonia.memory.store;

import java.nio.file.Path;

import ai.sonia.memory.domain.MemoryStore;
import ai.sonia.memory.store.AuditLog.Actor;

/** The memory ledger in one SQLite file. */
public final class SqliteMemoryStore implements MemoryStore {

    private final Database database;
    private final WriteQueue writes;

    public SqliteMemoryStore(Database database, WriteQueue writes) {
        this.database = database;
        this.writes = writes;
    }

    @Override
    public void backup(Path target) {
        writes.exclusive(c -> {
            BackupFiles.backup(c, target);
            return null;
        });
    }

    @Override
    public String restoreProblem(Path source) {
        return BackupFiles.problem(source);
    }

    @Override
    public void restore(Path source) {
        writes.exclusive(c -> {
            BackupFiles.restore(c, source);
            return null;
        });
    }

    @Override
    public String recordRestore(String backupId, Actor actor, long nowMs) {
        return writes.write(c -> MemoryLedger.recordRestore(c, backupId, actor, nowMs));
    }

    @Override
    public long count() {
        return database.read(MemoryLedger::count);
    }
}
