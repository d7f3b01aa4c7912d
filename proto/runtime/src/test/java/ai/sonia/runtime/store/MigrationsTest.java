package ai.sonia.runtime.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

import org.flywaydb.core.api.output.MigrateResult;
import org.junit.jupiter.api.Test;

import ai.sonia.runtime.testing.TestHomes;

/** Store migrations through Flyway on real SQLite files (and in memory), as every store runs them. */
class MigrationsTest {

    private static final String NOTES = "db/test/notes";
    private static final String JAVA = "ai.sonia.runtime.store.migrations";

    private static Path file(String name) {
        return TestHomes.create("migrations").resolve(name + ".db");
    }

    @Test
    void aFreshDatabaseGetsEveryMigrationAndARerunIsANoOp() throws Exception {
        final Path file = file("fresh");
        try (Connection c = Sqlite.open(file)) {
            final MigrateResult first = Migrations.migrate(c, NOTES, JAVA);
            assertThat(first.migrationsExecuted).isEqualTo(4);
            assertThat(first.targetSchemaVersion).isEqualTo("4");
            assertThat(columns(c, "notes")).containsExactly("id", "tenant", "text", "tags");
            assertThat(c.getAutoCommit()).isTrue(); // the connection is left as it was lent
        }
        try (Connection c = Sqlite.open(file)) {
            final MigrateResult again = Migrations.migrate(c, NOTES, JAVA);
            assertThat(again.migrationsExecuted).isZero();
            assertThat(c.isClosed()).isFalse(); // Flyway's close did not close the store's connection
            try (Statement s = c.createStatement()) {
                s.execute("INSERT INTO notes(tenant, text) VALUES ('t', 'kept')");
                s.execute("INSERT INTO note_log(note, detail) VALUES (1, 'made')");
                assertThatThrownBy(() -> s.execute("UPDATE note_log SET detail = 'changed'"))
                        .hasMessageContaining("the log is append-only; no; really");
            }
        }
    }

    @Test
    void inMemoryDatabasesKeepTheirSchemaOnTheSameConnection() throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite::memory:")) {
            Migrations.migrate(c, NOTES);
            assertThat(columns(c, "notes")).containsExactly("id", "tenant", "text", "tags");
        }
    }

    @Test
    void aUserVersionDatabaseIsAdoptedAtItsVersion() throws Exception {
        final Path file = legacyNotes("legacy", 1);
        try (Connection c = Sqlite.open(file)) {
            final MigrateResult result = Migrations.migrate(c, NOTES, JAVA, Migrations.USER_VERSION);
            assertThat(result.migrationsExecuted).isEqualTo(3); // V2 to V4; V1 is the baseline
            assertThat(columns(c, "notes")).containsExactly("id", "tenant", "text", "tags");
            assertThat(single(c, "SELECT tenant || ':' || text || ':' || tags FROM notes")).isEqualTo("ACME:old:");
            assertThat(Migrations.migrate(c, NOTES, JAVA, Migrations.USER_VERSION).migrationsExecuted).isZero();
        }
    }

    @Test
    void withoutALegacyVersionAnIdempotentV1AdoptsAnOldDatabase() throws Exception {
        final Path file = legacyNotes("idempotent", 0);
        try (Connection c = Sqlite.open(file)) {
            assertThat(Migrations.migrate(c, "db/test/idempotent").migrationsExecuted).isEqualTo(2);
            assertThat(single(c, "SELECT text || ':' || tags FROM notes")).isEqualTo("old:");
        }
    }

    @Test
    void aNewStoreInAFileOfAnotherStartsFromItsOwnV1() throws Exception {
        try (Connection c = Sqlite.open(file("shared"))) {
            try (Statement s = c.createStatement()) {
                s.execute("CREATE TABLE other_store (id INTEGER PRIMARY KEY)");
            }
            assertThat(Migrations.migrate(c, NOTES).migrationsExecuted).isEqualTo(3);
            assertThat(tables(c)).contains("other_store", "notes", "flyway_db_test_notes");
        }
    }

    @Test
    void aFailingMigrationRollsBackAndNamesItself() throws Exception {
        final Path file = file("broken");
        try (Connection c = Sqlite.open(file)) {
            assertThatThrownBy(() -> Migrations.migrate(c, "db/test/broken"))
                    .isInstanceOf(SQLException.class)
                    .hasMessageContaining("db/test/broken")
                    .hasMessageContaining("V2__typo.sql")
                    .hasMessageContaining("missing_table");
            // V1 stays applied; V2 left nothing behind (its first statement was rolled back with it).
            assertThat(tables(c)).contains("kept").doesNotContain("half");
            assertThat(c.getAutoCommit()).isTrue();
            assertThatThrownBy(() -> Migrations.migrate(c, "db/test/broken")).isInstanceOf(SQLException.class);
        }
    }

    /** What a pre-Flyway build left: version 1 of the notes schema with one row, at this user_version. */
    private static Path legacyNotes(String name, int userVersion) throws SQLException {
        final Path file = file(name);
        try (Connection c = Sqlite.open(file); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, tenant TEXT NOT NULL, text TEXT NOT NULL)");
            s.execute("INSERT INTO notes(tenant, text) VALUES ('acme', 'old')");
            s.execute("PRAGMA user_version = " + userVersion);
        }
        return file;
    }

    private static List<String> columns(Connection c, String table) throws SQLException {
        final List<String> names = new ArrayList<>();
        try (var rs = c.createStatement().executeQuery("SELECT name FROM pragma_table_info('" + table + "')")) {
            while (rs.next()) {
                names.add(rs.getString(1));
            }
        }
        return names;
    }

    private static List<String> tables(Connection c) throws SQLException {
        final List<String> names = new ArrayList<>();
        try (var rs = c.createStatement().executeQuery("SELECT name FROM sqlite_master WHERE type = 'table'")) {
            while (rs.next()) {
                names.add(rs.getString(1));
            }
        }
        return names;
    }

    private static String single(Connection c, String sql) throws SQLException {
        try (var rs = c.createStatement().executeQuery(sql)) {
            assertThat(rs.next()).isTrue();
            return rs.getString(1);
        }
    }
}
