package ai.sonia.gateway.store;

import org.junit.jupiter.api.AfterEach;

import ai.sonia.gateway.domain.AuditLog;

class SqliteAuditLogTest extends AuditLogContract {

    private final SqliteStores stores = new SqliteStores();

    @Override
    protected AuditLog newLog() {
        return new SqliteAuditLog(stores.newDatabase());
    }

    @AfterEach
    void close() {
        stores.close();
    }
}
