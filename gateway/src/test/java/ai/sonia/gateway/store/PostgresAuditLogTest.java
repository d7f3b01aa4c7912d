package ai.sonia.gateway.store;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.Statement;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import ai.sonia.gateway.domain.AuditLog;
import ai.sonia.runtime.testing.EmbeddedPostgresExtension;

/** The PostgreSQL audit log against the contract the SQLite one meets, append-only in the database too. */
class PostgresAuditLogTest extends AuditLogContract {

    @RegisterExtension
    static final EmbeddedPostgresExtension postgres = new EmbeddedPostgresExtension();

    private final PostgresStores stores = new PostgresStores(postgres);

    @Override
    protected AuditLog newLog() {
        return new PostgresAuditLog(stores.newDatabase());
    }

    @AfterEach
    void close() {
        stores.close();
    }

    @Test
    void theDatabaseRefusesToChangeOrDeleteAnEvent() throws Exception {
        new PostgresAuditLog(stores.newDatabase())
                .append(new AuditLog.AuditRow(0, "t1", 1, 1, true, "a", "u", "n", "127.0.0.1", "d"));
        try (Connection c = postgres.connection();
             Statement s = c.createStatement()) {
            assertThatThrownBy(() -> s.executeUpdate("UPDATE audit_events SET detail = 'x'"))
                    .hasMessageContaining("append-only");
            assertThatThrownBy(() -> s.executeUpdate("DELETE FROM audit_events")).hasMessageContaining("append-only");
            assertThatThrownBy(() -> s.execute("TRUNCATE audit_events")).hasMessageContaining("append-only");
        }
    }
}
