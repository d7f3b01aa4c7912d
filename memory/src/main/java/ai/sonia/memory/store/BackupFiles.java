package ai.sonia.memory.store;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

import org.sqlite.SQLiteConfig;

import ai.sonia.runtime.store.Migrations;

/**
 * SQLite's online backup and restore, with an integrity and schema check of the file before a restore.
 *
 * <p>The check opens the backup read-only with its own connection, not through
 * {@link ai.sonia.runtime.store.Sqlite#open}: that one writes to the file it opens (WAL journal mode,
 * owner-only permissions), and a file that may be corrupt or foreign must not be changed before it passes.
 */
final class BackupFiles {

    /** Flyway's history table of the ledger's migrations (as {@link Migrations} names it). */
    private static final String HISTORY = "flyway_db_memory_ledger";

    private BackupFiles() {}

    /** Copies the live database into {@code target}; run on the writer between group commits. */
    static void backup(Connection writer, Path target) throws SQLException {
        try (Statement statement = writer.createStatement()) {
            statement.executeUpdate("backup to " + quoted(target));
        }
    }

    /** Why {@code file} cannot be restored, or null when it passes the integrity check and schema version. */
    static String problem(Path file) {
        final SQLiteConfig config = new SQLiteConfig();
        config.setReadOnly(true);
        try (Connection connection = DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath(),
                                                                 config.toProperties());
             Statement statement = connection.createStatement()) {
            try (ResultSet rs = statement.executeQuery("PRAGMA integrity_check")) {
                final String result = rs.next() ? rs.getString(1) : "no result";
                if (!"ok".equals(result)) {
                    return "integrity check: " + result;
                }
            }
            final int version = schemaVersion(connection);
            if (version == 0 || version > SqliteMemoryStore.SCHEMA_VERSION) {
                return "schema version " + version + " (expected: 1.." + SqliteMemoryStore.SCHEMA_VERSION + ')';
            }
            return null;
        } catch (SQLException e) {
            return e.getMessage();
        }
    }

    /** The ledger's schema version: Flyway's latest applied, or the user_version of a file made before it. */
    private static int schemaVersion(Connection connection) throws SQLException {
        try (Statement statement = connection.createStatement()) {
            try (ResultSet tables = connection.getMetaData().getTables(null, null, HISTORY, null)) {
                if (!tables.next()) {
                    try (ResultSet rs = statement.executeQuery("PRAGMA user_version")) {
                        return rs.next() ? rs.getInt(1) : 0;
                    }
                }
            }
            try (ResultSet rs = statement.executeQuery(
                    "SELECT max(CAST(version AS INTEGER)) FROM " + HISTORY + " WHERE success = 1")) {
                return rs.next() ? rs.getInt(1) : 0;
            }
        }
    }

    /** Replaces the live database with {@code source} and migrates it; run on the writer. */
    static void restore(Connection writer, Path source) throws SQLException {
        try (Statement statement = writer.createStatement()) {
            statement.executeUpdate("restore from " + quoted(source));
        }
        SqliteMemoryStore.migrate(writer);
    }

    private static String quoted(Path path) {
        return "'" + path.toAbsolutePath().toString().replace("'", "''") + "'";
    }
}
