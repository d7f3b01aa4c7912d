package ai.sonia.memory.store;

import ai.sonia.memory.domain.AuditLog;
import ai.sonia.memory.domain.MemoryStore;

class SqliteAuditLogTest extends AuditLogContract {

    @Override
    protected MemoryStore newStore() {
        return SqliteMemoryStoreTest.newSqliteStore();
    }

    @Override
    protected AuditLog auditLogOf(MemoryStore store) {
        return ((SqliteMemoryStore) store).auditLog();
    }
}
