package ai.sonia.runtime.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * Statements with positional arguments on one connection (a store's SQLite connection, a step of
 * {@link PostgresPool}): every store's way to bind, run and read. Arguments are bound with
 * {@link PreparedStatement#setObject}, the first to {@code ?} number 1.
 */
public final class Sql {

    /** Maps the current row of a result set. */
    @FunctionalInterface
    public interface Row<T> {
        T map(ResultSet rs) throws SQLException;
    }

    /** {@code sql} prepared on {@code connection}, {@code args} bound; the caller closes it. */
    public static PreparedStatement prepare(Connection connection, String sql, Object... args) throws SQLException {
        final PreparedStatement ps = connection.prepareStatement(sql);
        try {
            bind(ps, args);
            return ps;
        } catch (SQLException | RuntimeException e) {
            ps.close();
            throw e;
        }
    }

    /** Binds {@code args} to {@code ps}'s parameters 1..n. */
    public static void bind(PreparedStatement ps, Object... args) throws SQLException {
        for (int i = 0; i < args.length; i++) {
            ps.setObject(i + 1, args[i]);
        }
    }

    /** Every row of the query, mapped. */
    public static <T> List<T> query(Connection connection, Row<T> row, String sql, Object... args)
            throws SQLException {
        final List<T> rows = new ArrayList<>();
        try (PreparedStatement ps = prepare(connection, sql, args); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                rows.add(row.map(rs));
            }
        }
        return rows;
    }

    /** The first column of the first row, or 0 without rows. */
    public static long queryLong(Connection connection, String sql, Object... args) throws SQLException {
        final List<Long> rows = query(connection, rs -> rs.getLong(1), sql, args);
        return rows.isEmpty() ? 0 : rows.get(0);
    }

    /** Runs a change; the number of rows changed. */
    public static int update(Connection connection, String sql, Object... args) throws SQLException {
        try (PreparedStatement ps = prepare(connection, sql, args)) {
            return ps.executeUpdate();
        }
    }

    private Sql() {}
}
