package ai.sonia.memory.store;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.Statement;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import ai.sonia.common.v1.Scope;
import ai.sonia.memory.domain.AuditLog;
import ai.sonia.memory.domain.MemoryStore;
import ai.sonia.memory.domain.MemoryStore.NewMemory;
import ai.sonia.memory.v1.Memory;
import ai.sonia.runtime.testing.EmbeddedPostgresExtension;

/** The PostgreSQL audit log against the contract the SQLite one meets, append-only in the database too. */
class PostgresAuditLogTest extends AuditLogContract {

    @RegisterExtension
    static final EmbeddedPostgresExtension postgres = new EmbeddedPostgresExtension();

    private final PostgresLedgers ledgers = new PostgresLedgers(postgres);

    @Override
    protected MemoryStore newStore() {
        return ledgers.emptied();
    }

    @Override
    protected AuditLog auditLogOf(MemoryStore store) {
        return ((PostgresMemoryStore) store).auditLog();
    }

    @AfterEach
    void closeAll() {
        ledgers.close();
    }

    @Test
    void theDatabaseRefusesToChangeOrDeleteARecord() throws Exception {
        ledgers.another().store(new NewMemory(Memory.newBuilder().setText("Kept.")
                                                    .setScope(Scope.newBuilder().setTenant("t")).build(),
                                              "h", new float[] {1, 0}, "m", null, ""),
                                MemoryStoreContract.ACTOR, 1);
        try (Connection c = postgres.connection(); Statement s = c.createStatement()) {
            assertThatThrownBy(() -> s.executeUpdate("UPDATE audit_records SET detail = 'x'"))
                    .hasMessageContaining("append-only");
            assertThatThrownBy(() -> s.executeUpdate("DELETE FROM audit_records")).hasMessageContaining("append-only");
            assertThatThrownBy(() -> s.execute("TRUNCATE audit_records")).hasMessageContaining("append-only");
        }
    }
}
