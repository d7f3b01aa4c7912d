package ai.sonia.openclaw.store;

import java.nio.file.Path;
import java.util.UUID;

import ai.sonia.openclaw.domain.AuditLog;

/** The SQLite audit log against the contract, on a fresh file under target/. */
class SqliteAuditLogTest extends AuditLogContract {

    @Override
    protected AuditLog newLog() {
        return new SqliteAuditLog(Path.of("target", "audit-" + UUID.randomUUID(), "audit.db"));
    }
}
