package ai.sonia.memory.store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

import ai.sonia.runtime.store.PostgresPool;

/**
 * Backups of the PostgreSQL ledger as SQLite files of the ledger's own schema (what {@link BackupFiles} writes
 * and checks), so that a backup restores on either engine: an export of one snapshot, and a restore that
 * replaces the memories, metadata, vectors and request ids in one transaction with the tables locked. The
 * audit log is append-only on PostgreSQL: a restore keeps it and adds its own record, rather than rewinding it.
 */
final class PostgresBackupFiles {

    /** The tables a backup holds and a restore replaces (in that order: parents first), with their columns. */
    private static final List<List<String>> TABLES = List.of(
            List.of("memories", "id, name, tenant, user_id, session_id, kind, text, content_hash, source, trust, state,"
                                + " create_ms, access_ms, access_count, valid_from_ms, valid_to_ms, expire_ms,"
                                + " supersedes, superseded_by"),
            List.of("memory_metadata", "memory_id, key, value"),
            List.of("memory_vectors", "memory_id, tenant, model, vector"),
            List.of("store_requests", "principal, request_id, memory, created, create_ms"));
    private static final List<String> AUDIT =
            List.of("audit_records", "id, action, memory, tenant, principal, correlation_id, create_ms, detail");

    private PostgresBackupFiles() {}

    /** Writes the ledger as {@code c}'s snapshot sees it into the (new or empty) SQLite file {@code target}. */
    static void export(Connection c, Path target) throws SQLException {
        try (Connection sqlite = DriverManager.getConnection("jdbc:sqlite:" + target.toAbsolutePath())) {
            SqliteMemoryStore.migrate(sqlite);
            sqlite.setAutoCommit(false);
            for (List<String> table : TABLES) {
                copy(c, sqlite, table);
            }
            copy(c, sqlite, AUDIT);
            sqlite.commit();
        }
    }

    /**
     * Replaces the ledger's memories with those of the SQLite backup {@code source} (checked by
     * {@link BackupFiles#problem}), brought up to this build's schema on a copy first; tells every replica's
     * index to reload.
     */
    static void restore(PostgresPool pool, Path source) {
        final Path copy = source.resolveSibling(source.getFileName() + ".restoring-" + System.nanoTime());
        try {
            Files.copy(source, copy);
            try (Connection sqlite = DriverManager.getConnection("jdbc:sqlite:" + copy.toAbsolutePath())) {
                SqliteMemoryStore.migrate(sqlite);
                pool.inTransaction(c -> {
                    try (Statement statement = c.createStatement()) {
                        // Writers of any replica wait for the restore, and it for the writes under way.
                        statement.execute("LOCK TABLE memories, memory_metadata, memory_vectors, store_requests"
                                          + " IN EXCLUSIVE MODE");
                        statement.executeUpdate("DELETE FROM memories"); // metadata and vectors cascade
                        statement.executeUpdate("DELETE FROM store_requests");
                    }
                    for (List<String> table : TABLES) {
                        copy(sqlite, c, table);
                    }
                    try (Statement statement = c.createStatement()) {
                        // New ids follow every id restored and every id handed out before.
                        statement.execute("SELECT setval(pg_get_serial_sequence('memories', 'id'), GREATEST("
                                          + "(SELECT coalesce(max(id), 0) FROM memories),"
                                          + " (SELECT last_value FROM memories_id_seq)))");
                    }
                    PostgresMemoryStore.changed(c, "RELOAD", 0, "", System.currentTimeMillis());
                    return null;
                });
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot copy the backup " + source, e);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read the backup " + source + ": " + e.getMessage(), e);
        } finally {
            try {
                Files.deleteIfExists(copy);
            } catch (IOException ignored) {
                // A leftover copy of a backup, owner-only like the backup: nothing else to do about it.
            }
        }
    }

    /** Copies every row of {@code table} (its name and columns) from one database into the other. */
    private static void copy(Connection from, Connection to, List<String> table) throws SQLException {
        final String name = table.get(0);
        final String columns = table.get(1);
        final int count = columns.split(",").length;
        try (Statement read = from.createStatement();
             PreparedStatement write = to.prepareStatement(
                     "INSERT INTO " + name + " (" + columns + ") VALUES (" + "?, ".repeat(count - 1) + "?)")) {
            read.setFetchSize(1_000);
            try (ResultSet rs = read.executeQuery("SELECT " + columns + " FROM " + name)) {
                int batched = 0;
                while (rs.next()) {
                    for (int i = 1; i <= count; i++) {
                        write.setObject(i, rs.getObject(i));
                    }
                    write.addBatch();
                    if (++batched % 1_000 == 0) {
                        write.executeBatch();
                    }
                }
                write.executeBatch();
            }
        }
    }
}
