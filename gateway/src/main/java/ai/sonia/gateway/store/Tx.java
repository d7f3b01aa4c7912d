package ai.sonia.gateway.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * Statements with positional arguments on one connection: the SQL helper of both accounts databases
 * ({@link SqliteDatabase}'s single connection, a transaction of {@link PostgresDatabase}).
 */
final class Tx {

    /** Maps the current row of a result set. */
    @FunctionalInterface
    interface Row<T> {
        T map(ResultSet rs) throws SQLException;
    }

    private final Connection connection;

    Tx(Connection connection) {
        this.connection = connection;
    }

    <T> List<T> query(Row<T> row, String sql, Object... args) throws SQLException {
        final List<T> rows = new ArrayList<>();
        try (PreparedStatement ps = prepare(sql, args); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                rows.add(row.map(rs));
            }
        }
        return rows;
    }

    /** The first column of the first row, or 0 without rows. */
    long queryLong(String sql, Object... args) throws SQLException {
        final List<Long> rows = query(rs -> rs.getLong(1), sql, args);
        return rows.isEmpty() ? 0 : rows.get(0);
    }

    /** Runs a change; the number of rows changed. */
    int update(String sql, Object... args) throws SQLException {
        try (PreparedStatement ps = prepare(sql, args)) {
            return ps.executeUpdate();
        }
    }

    private PreparedStatement prepare(String sql, Object... args) throws SQLException {
        final PreparedStatement ps = connection.prepareStatement(sql);
        for (int i = 0; i < args.length; i++) {
            ps.setObject(i + 1, args[i]);
        }
        return ps;
    }
}
