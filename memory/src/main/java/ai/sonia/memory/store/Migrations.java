package ai.sonia.memory.store;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * The ledger's schema, as an ordered list of migrations. The applied version is {@code PRAGMA user_version};
 * each migration runs in its own transaction, so a crash leaves the schema at a whole version. Migrations are
 * only ever appended, never edited.
 */
final class Migrations {

    private static final List<List<String>> MIGRATIONS = List.of(
            // Version 1: memories, their metadata, vectors, full-text index and the audit log.
            List.of("""
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
                    + " BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END"));

    /** The schema version this build writes. */
    static int latest() {
        return MIGRATIONS.size();
    }

    /** Brings the database up to {@link #latest()}; refuses a database written by a newer build. */
    static void apply(Connection connection) throws SQLException {
        final int current = version(connection);
        if (current > latest()) {
            throw new SQLException("database schema version " + current + " is newer than this build's "
                                   + latest());
        }
        for (int version = current + 1; version <= latest(); version++) {
            connection.setAutoCommit(false);
            try (Statement statement = connection.createStatement()) {
                for (String sql : MIGRATIONS.get(version - 1)) {
                    statement.execute(sql);
                }
                statement.execute("PRAGMA user_version = " + version);
                connection.commit();
            } catch (SQLException e) {
                connection.rollback();
                throw e;
            } finally {
                connection.setAutoCommit(true);
            }
        }
    }

    static int version(Connection connection) throws SQLException {
        try (Statement statement = connection.createStatement();
             ResultSet rs = statement.executeQuery("PRAGMA user_version")) {
            return rs.next() ? rs.getInt(1) : 0;
        }
    }

    private Migrations() {}
}
