package ai.sonia.runtime.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import ai.sonia.runtime.testing.EmbeddedPostgresExtension;

/** One way to keep a table append-only, on SQLite and on PostgreSQL, through a store's migration. */
class AppendOnlyTest {

    @RegisterExtension
    static final EmbeddedPostgresExtension postgres = new EmbeddedPostgresExtension();

    @Test
    void sqliteRefusesUpdateAndDeleteWithTheStoresMessage() throws SQLException {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite::memory:");
             Statement s = c.createStatement()) {
            s.execute("CREATE TABLE log (seq INTEGER PRIMARY KEY, detail TEXT NOT NULL)");
            Migrations.migrate(c, "db/test/none", null, x -> null,
                               AppendOnly.migration("1", "log", "the log's rows are append-only"));
            s.execute("INSERT INTO log(detail) VALUES ('kept')");
            assertThatThrownBy(() -> s.execute("UPDATE log SET detail = 'x'"))
                    .hasMessageContaining("the log's rows are append-only");
            assertThatThrownBy(() -> s.execute("DELETE FROM log")).hasMessageContaining("the log's rows are append-only");
            assertThat(Sql.queryLong(c, "SELECT COUNT(*) FROM log WHERE detail = ?", "kept")).isEqualTo(1);
        }
    }

    @Test
    void postgresRefusesUpdateDeleteAndTruncateAndATestMayStillEmptyIt() throws SQLException {
        postgres.execute("CREATE TABLE log (seq BIGSERIAL PRIMARY KEY, detail TEXT NOT NULL)");
        try (PostgresPool pool = PostgresPool.open(postgres.settings(), "append-only-test", "db/test/none", "test",
                                                   "log", AppendOnly.migration("1", "log", "100% append-only"))) {
            pool.inTransaction(c -> Sql.update(c, "INSERT INTO log(detail) VALUES (?)", "kept"));
            for (String change : new String[] {"UPDATE log SET detail = 'x'", "DELETE FROM log", "TRUNCATE log"}) {
                assertThatThrownBy(() -> pool.inTransaction(c -> Sql.update(c, change)))
                        .isInstanceOf(IllegalStateException.class).hasMessageContaining("100% append-only");
            }
            final List<String> kept = pool.inTransaction(c -> Sql.query(c, rs -> rs.getString(1), "SELECT detail FROM log"));
            assertThat(kept).containsExactly("kept");
            postgres.executeWithoutTriggers("TRUNCATE log");
            final long left = pool.inTransaction(c -> Sql.queryLong(c, "SELECT COUNT(*) FROM log"));
            assertThat(left).isZero();
        }
    }
}
