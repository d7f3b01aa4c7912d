package ai.sonia.memory.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;

import org.junit.jupiter.api.Test;

import ai.sonia.common.v1.Scope;
import ai.sonia.memory.domain.Actor;
import ai.sonia.memory.domain.LedgerView;
import ai.sonia.memory.v1.MemoryState;
import ai.sonia.runtime.store.Sqlite;

/**
 * A ledger made by the code before Flyway (its schema from an ordered list of migrations, the version in
 * {@code PRAGMA user_version}) upgrades in place: its memories and audit records stay, it takes new writes,
 * and Flyway records it at version 1 without running V1 again, then applies the later migrations. A backup of it restores as well.
 */
class LegacyLedgerTest {

    /** The migration list of the code before Flyway, verbatim: version 1. */
    private static final List<String> OLD_VERSION_1 = List.of("""
            CREATE TABLE memories (
              id INTEGER PRIMARY KEY,
              name TEXT NOT NULL UNIQUE,
              tenant TEXT NOT NULL,
              user_id TEXT NOT NULL,
              session_id TEXT NOT NULL,
              kind INTEGER NOT NULL,
              text TEXT NOT NULL,
              content_hash TEXT NOT NULL,
              source TEXT NOT NULL,
              trust TEXT NOT NULL,
              state INTEGER NOT NULL,
              create_ms INTEGER NOT NULL,
              access_ms INTEGER NOT NULL,
              access_count INTEGER NOT NULL DEFAULT 0,
              valid_from_ms INTEGER NOT NULL,
              valid_to_ms INTEGER,
              expire_ms INTEGER,
              supersedes TEXT NOT NULL DEFAULT '',
              superseded_by TEXT NOT NULL DEFAULT '')""",
            // Idempotency: one active memory per scope and content hash.
            "CREATE UNIQUE INDEX memories_active_hash ON memories(tenant, user_id, session_id, content_hash)"
            + " WHERE state = 1",
            "CREATE INDEX memories_scope ON memories(tenant, user_id, session_id, id)",
            "CREATE INDEX memories_expiry ON memories(expire_ms) WHERE state = 1 AND expire_ms IS NOT NULL",
            """
            CREATE TABLE memory_metadata (
              memory_id INTEGER NOT NULL REFERENCES memories(id) ON DELETE CASCADE,
              key TEXT NOT NULL,
              value TEXT NOT NULL,
              PRIMARY KEY (memory_id, key)) WITHOUT ROWID""",
            "CREATE INDEX memory_metadata_pair ON memory_metadata(key, value, memory_id)",
            """
            CREATE TABLE memory_vectors (
              memory_id INTEGER PRIMARY KEY REFERENCES memories(id) ON DELETE CASCADE,
              tenant TEXT NOT NULL,
              model TEXT NOT NULL,
              vector BLOB NOT NULL)""",
            // Contentless with delete support: the text lives only in memories, so forgetting a
            // memory leaves no copy of it in the index.
            "CREATE VIRTUAL TABLE memory_fts USING fts5(text, content='', contentless_delete=1,"
            + " tokenize='porter unicode61')",
            "INSERT INTO memory_fts(memory_fts, rank) VALUES('secure-delete', 1)",
            """
            CREATE TABLE audit_records (
              id INTEGER PRIMARY KEY AUTOINCREMENT,
              action TEXT NOT NULL,
              memory TEXT NOT NULL,
              tenant TEXT NOT NULL,
              principal TEXT NOT NULL,
              correlation_id TEXT NOT NULL,
              create_ms INTEGER NOT NULL,
              detail TEXT NOT NULL)""",
            "CREATE INDEX audit_records_memory ON audit_records(memory, id)",
            "CREATE TRIGGER audit_records_no_update BEFORE UPDATE ON audit_records"
            + " BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END",
            "CREATE TRIGGER audit_records_no_delete BEFORE DELETE ON audit_records"
            + " BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END");

    private static final String NAME = "memories/" + "a".repeat(32);

    @Test
    void aLedgerOfTheUserVersionListUpgradesInPlace() throws Exception {
        final Path file = oldLedger("in-place");

        try (SqliteMemoryStore store = SqliteMemoryStore.open(file, 1, false)) {
            assertThat(store.byName(NAME, 2_000).orElseThrow().memory().getText()).isEqualTo("Made by the old code.");
            assertThat(store.byName(NAME, 2_000).orElseThrow().memory().getState())
                    .isEqualTo(MemoryState.MEMORY_STATE_ACTIVE);
            assertThat(store.auditLog().list(new LedgerView("", "", ""), NAME, 0, 10)).hasSize(1);
            store.store(MemoryStoreContract.memory(Scope.newBuilder().setTenant("old").build(), "Made by the new code."),
                        new Actor("test", ""), 3_000);
            assertThat(store.count()).isEqualTo(2);
        }
        try (Connection connection = Sqlite.open(file);
             Statement statement = connection.createStatement();
             ResultSet rs = statement.executeQuery(
                     "SELECT version, type FROM flyway_db_memory_ledger ORDER BY installed_rank")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("1");
            assertThat(rs.getString(2)).isEqualTo("BASELINE");
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("2");
            assertThat(rs.getString(2)).isEqualTo("SQL");
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("3"); // the FTS5 index dropped
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("4"); // the audit kept append-only (AppendOnly)
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("5"); // the outbox of a shared search index
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("6"); // what each owner holds, for the quota
            assertThat(rs.next()).isFalse();
        }
        // The old memory was counted when the usage table was made, the new one by the trigger.
        try (Connection connection = Sqlite.open(file);
             Statement statement = connection.createStatement();
             ResultSet rs = statement.executeQuery(
                     "SELECT memories, text_chars FROM memory_usage WHERE tenant = 'old' AND user_id = ''")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getLong(1)).isEqualTo(2);
            assertThat(rs.getLong(2)).isEqualTo("Made by the old code.".length() + "Made by the new code.".length());
        }
    }

    @Test
    void aBackupOfTheOldCodeRestores() throws Exception {
        final Path backup = oldLedger("backup");
        try (SqliteMemoryStore store = SqliteMemoryStoreTest.newSqliteStore()) {
            assertThat(store.restoreProblem(backup)).isNull();
            store.restore(backup);
            assertThat(store.byName(NAME, 2_000)).isPresent();
            assertThat(store.count()).isEqualTo(1);
        }
    }

    @Test
    void aNewLedgerIsAtTheLatestVersion() throws Exception {
        final Path file = Path.of("target", "legacy-ledger", "new-" + System.nanoTime(), "memory.db").toAbsolutePath();
        SqliteMemoryStore.open(file, 1, false).close();
        try (Connection connection = Sqlite.open(file);
             Statement statement = connection.createStatement();
             ResultSet rs = statement.executeQuery("SELECT max(CAST(version AS INTEGER)) FROM flyway_db_memory_ledger")) {
            rs.next();
            assertThat(rs.getInt(1)).isEqualTo(SqliteMemoryStore.SCHEMA_VERSION);
        }
    }

    /** A ledger file as the old code left it, with one memory and its audit record. */
    private static Path oldLedger(String name) throws Exception {
        final Path file = Path.of("target", "legacy-ledger", name + '-' + System.nanoTime(), "memory.db")
                              .toAbsolutePath();
        Files.createDirectories(file.getParent());
        try (Connection connection = Sqlite.open(file);
             Statement statement = connection.createStatement()) {
            for (String sql : OLD_VERSION_1) {
                statement.execute(sql);
            }
            statement.execute("PRAGMA user_version = 1");
            statement.execute("INSERT INTO memories (id, name, tenant, user_id, session_id, kind, text, content_hash,"
                              + " source, trust, state, create_ms, access_ms, valid_from_ms)"
                              + " VALUES (1, '" + NAME + "', 'old', '', '', 1, 'Made by the old code.', 'h', '', '',"
                              + " 1, 1000, 1000, 1000)");
            statement.execute("INSERT INTO memory_fts (rowid, text) VALUES (1, 'Made by the old code.')");
            statement.execute("INSERT INTO memory_vectors (memory_id, tenant, model, vector)"
                              + " VALUES (1, 'old', 'test-model', x'0000803f000000000000000000000000')");
            statement.execute("INSERT INTO audit_records (action, memory, tenant, principal, correlation_id,"
                              + " create_ms, detail) VALUES ('STORE', '" + NAME + "', 'old', 'test', '', 1000, '')");
        }
        return file;
    }
}
