package ai.sonia.evaos.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.List;
import java.util.UUID;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import ai.sonia.evaos.domain.ApprovalStore;
import ai.sonia.evaos.v1.Approval;
import ai.sonia.evaos.v1.ApprovalState;

/**
 * The SQLite approval store against the contract, on a fresh file under target/; and files made before
 * Flyway by the code of then, which upgrade in place (the pre-tenant file is ApprovalMigrationTest's).
 */
class SqliteApprovalStoreTest extends ApprovalStoreContract {

    @Override
    protected ApprovalStore newStore() {
        return new SqliteApprovalStore(Path.of("target", "approval-store-" + UUID.randomUUID(), "approvals.db"));
    }

    /** The schema the code before Flyway made: tenants, decisions, and owners settled at user_version 1. */
    @ParameterizedTest
    @CsvSource({"1, alice, alice", "1, local, local", "0, local, ''", "0, alice, alice"})
    void aFileMadeBeforeFlywayOpensWithItsRowsAndDecisions(int userVersion, String requester, String expected)
            throws Exception {
        final Path file = Path.of("target", "approval-store-" + UUID.randomUUID(), "approvals.db");
        Files.createDirectories(file.getParent());
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
             Statement s = c.createStatement()) {
            s.execute(LegacyApprovals.table(
                    ", tenant TEXT NOT NULL DEFAULT 'default', requester TEXT NOT NULL DEFAULT 'local'"));
            s.execute("CREATE INDEX approvals_hash ON approvals(action_hash, state)");
            s.execute("""
                    CREATE TABLE decisions (
                      approval_id TEXT NOT NULL, tenant TEXT NOT NULL, requester TEXT NOT NULL,
                      decided_by TEXT NOT NULL, decide_ms INTEGER NOT NULL, state INTEGER NOT NULL,
                      grant_scope INTEGER NOT NULL, risk INTEGER NOT NULL, tool TEXT NOT NULL,
                      action_hash TEXT NOT NULL, expire_ms INTEGER NOT NULL, reason TEXT NOT NULL)""");
            s.execute("INSERT INTO approvals VALUES ('a1', 2, 'shell.run', '{\"argv\":[\"mkdir\",\"x\"]}', '', "
                      + "'hash-now', 3, 'shell.run/default-risk', 1, '', 's', 'acme/" + requester + "', 'acme/boss', "
                      + "1, 2, 3, 'ok', 0, 'acme', '" + requester + "')");
            s.execute("INSERT INTO decisions VALUES ('a1', 'acme', '" + requester + "', 'acme/boss', 2, 2, 1, 3, "
                      + "'shell.run', 'hash-now', 3, 'ok')");
            s.execute("PRAGMA user_version = " + userVersion);
        }
        for (int open = 0; open < 2; open++) { // the second opening migrates nothing twice
            try (ApprovalStore store = new SqliteApprovalStore(file)) {
                final Approval a = store.get("acme", ApprovalStore.ANY_REQUESTER, "a1").orElseThrow();
                assertThat(a.getRequester()).isEqualTo(expected);
                assertThat(a.getActionHash()).isEqualTo("hash-now");
                assertThat(a.getState()).isEqualTo(ApprovalState.APPROVAL_STATE_APPROVED);
                assertThat(store.decisions("acme", List.of(), 10).items()).hasSize(1);
            }
        }
        // The decisions are append-only now (AppendOnly), the old file's too.
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
             Statement s = c.createStatement()) {
            assertThatThrownBy(() -> s.execute("UPDATE decisions SET reason = 'x'"))
                    .hasMessageContaining("decisions are append-only");
            assertThatThrownBy(() -> s.execute("DELETE FROM decisions")).hasMessageContaining("decisions are append-only");
        }
    }
}
