package ai.sonia.memory.store;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

import org.sqlite.SQLiteConfig;

/** SQLite's online backup and restore, with an integrity check of the file before a restore. */
public final class BackupFiles {

    private BackupFiles() {}

    /** Copies the live database into {@code target}; run on the writer between group commits. */
    public static void backup(Connection writer, Path target) throws SQLException {
        try (Statement statement = writer.createStatement()) {
            statement.executeUpdate("backup to " + quoted(target));
        }
    }

    /** Why {@code file} cannot be restored, or null when it passes the integrity check and schema version. */
    public static String problem(Path file) {
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
            final int version = Migrations.version(connection);
            if (version == 0 || version > Migrations.latest()) {
                return "schema version " + version + " (expected: 1.." + Migrations.latest() + ')';
            }
            return null;
        } catch (SQLException e) {
            return e.getMessage();
        }
    }

    /** Replaces the live database with {@code source} and migrates it; run on the writer. */
    public static void restore(Connection writer, Path source) throws SQLException {
        try (Statement statement = writer.createStatement()) {
            statement.executeUpdate("restore from " + quoted(source));
        }
        Migrations.apply(writer);
    }

    private static String quoted(Path path) {
        return "'" + path.toAbsolutePath().toString().replace("'", "''") + "'";
    }
}
