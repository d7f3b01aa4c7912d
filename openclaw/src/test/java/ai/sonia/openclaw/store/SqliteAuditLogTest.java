package ai.sonia.openclaw.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.List;
import java.util.UUID;

import org.junit.jupiter.api.Test;

import ai.sonia.openclaw.domain.AuditLog;

/** The SQLite audit log against the contract, on a fresh file under target/; and a file made before Flyway. */
class SqliteAuditLogTest extends AuditLogContract {

    @Override
    protected AuditLog newLog() {
        return new SqliteAuditLog(Path.of("target", "audit-" + UUID.randomUUID(), "audit.db"));
    }

    @Test
    void aLogMadeBeforeFlywayKeepsItsRecords() throws Exception {
        final Path file = Path.of("target", "audit-" + UUID.randomUUID(), "audit.db");
        Files.createDirectories(file.getParent());
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
             Statement s = c.createStatement()) {
            s.execute("""
                    CREATE TABLE audit (
                      id TEXT PRIMARY KEY, time_ms INTEGER NOT NULL, principal TEXT NOT NULL,
                      session_id TEXT NOT NULL, correlation_id TEXT NOT NULL, tool TEXT NOT NULL,
                      action_hash TEXT NOT NULL, working_directory TEXT NOT NULL, decision TEXT NOT NULL,
                      rule TEXT NOT NULL, approval_id TEXT NOT NULL, outcome TEXT NOT NULL,
                      exit_code INTEGER NOT NULL, duration_ms INTEGER NOT NULL, detail TEXT NOT NULL)""");
            s.execute("CREATE INDEX audit_time ON audit(time_ms)");
            s.execute("INSERT INTO audit VALUES ('old', 5, 'default/local', '', '', 'file.read', '', '', "
                      + "'VERDICT_ALLOW', 'r', '', 'OK', 0, 1, '')");
        }
        for (int open = 0; open < 2; open++) {
            try (SqliteAuditLog log = new SqliteAuditLog(file)) {
                assertThat(log.list(List.of(), 10).entries()).extracting(AuditLog.Entry::id).containsExactly("old");
            }
        }
        // The audit is append-only now (AppendOnly), the old file's too.
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
             Statement s = c.createStatement()) {
            assertThatThrownBy(() -> s.execute("UPDATE audit SET detail = 'x'"))
                    .hasMessageContaining("the tool audit is append-only");
            assertThatThrownBy(() -> s.execute("DELETE FROM audit")).hasMessageContaining("the tool audit is append-only");
        }
    }
}
