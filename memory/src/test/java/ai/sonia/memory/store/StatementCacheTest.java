package ai.sonia.memory.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

import org.junit.jupiter.api.Test;

import ai.sonia.runtime.store.Sqlite;

class StatementCacheTest {

    private static Connection open() throws Exception {
        final Path dir = Files.createDirectories(Path.of("target", "statement-cache", "db-" + System.nanoTime()));
        final Connection connection = Sqlite.open(dir.resolve("test.db").toAbsolutePath());
        try (Statement statement = connection.createStatement()) {
            statement.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
            statement.execute("INSERT INTO t VALUES (1, 'one'), (2, 'two')");
        }
        return connection;
    }

    private static String read(PreparedStatement query, long id) throws SQLException {
        query.setLong(1, id);
        try (ResultSet rs = query.executeQuery()) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    @Test
    void keepsOneStatementPerSqlTextAndClearsItsParametersOnClose() throws Exception {
        final Connection raw = open();
        final Connection cached = StatementCache.wrap(raw);
        final String sql = "SELECT v FROM t WHERE id = ?";
        final PreparedStatement first;
        try (PreparedStatement query = cached.prepareStatement(sql)) {
            first = query;
            assertThat(read(query, 1)).isEqualTo("one");
        }
        try (PreparedStatement query = cached.prepareStatement(sql)) {
            assertThat(query).isSameAs(first);
            assertThat(read(query, 2)).isEqualTo("two");
        }
        raw.close();
        assertThat(cached.isClosed()).isTrue();
        // The kept statement closed with its connection.
        assertThatThrownBy(() -> read(first, 1)).isInstanceOf(SQLException.class);
    }

    @Test
    void aStatementStillOpenIsNotHandedOutTwice() throws Exception {
        try (Connection raw = open()) {
            final Connection cached = StatementCache.wrap(raw);
            final String sql = "SELECT v FROM t WHERE id = ?";
            try (PreparedStatement outer = cached.prepareStatement(sql);
                 PreparedStatement inner = cached.prepareStatement(sql)) {
                assertThat(inner).isNotSameAs(outer);
                outer.setLong(1, 1);
                try (ResultSet rs = outer.executeQuery()) {
                    assertThat(rs.next()).isTrue();
                    assertThat(read(inner, 2)).isEqualTo("two");
                    assertThat(rs.getString(1)).isEqualTo("one");
                }
            }
        }
    }
}
