package ai.sonia.gateway.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

import com.zaxxer.hikari.HikariDataSource;

import ai.sonia.runtime.store.Postgres;

/**
 * The gateway's accounts database on PostgreSQL (with {@code store.engine} postgres), shared by every
 * replica: one pool, its schema migrated on open by {@link Postgres#migrate} (the SQL of
 * {@code db/postgresql/gateway/accounts}), and one transaction per step ({@link #inTransaction}) for the
 * stores on it, {@link PostgresAccountStore} and {@link PostgresAuditLog}.
 */
public final class PostgresDatabase implements AutoCloseable {

    /** The store's location (its SQLite sibling's), whose PostgreSQL SQL is under {@code db/postgresql/}. */
    static final String MIGRATIONS = "db/gateway/accounts";

    private final HikariDataSource pool;

    private PostgresDatabase(HikariDataSource pool) {
        this.pool = pool;
    }

    /**
     * Connects to the settings' database and migrates the accounts' schema.
     *
     * @throws IllegalStateException when the database cannot be reached or migrated
     */
    public static PostgresDatabase open(Postgres.Settings settings) {
        final HikariDataSource pool = Postgres.open(settings, "gateway-accounts");
        try {
            Postgres.migrate(pool, MIGRATIONS);
            return new PostgresDatabase(pool);
        } catch (SQLException | RuntimeException e) {
            pool.close();
            throw new IllegalStateException("cannot open the accounts on " + settings + ": " + e.getMessage(), e);
        }
    }

    /** One step of a store, run in a transaction. */
    @FunctionalInterface
    interface Work<T> {
        T run(Tx tx) throws SQLException;
    }

    /** Maps the current row of a result set. */
    @FunctionalInterface
    interface Row<T> {
        T map(ResultSet rs) throws SQLException;
    }

    /** Runs {@code work} in one transaction, committed when it returns, rolled back when it throws. */
    <T> T inTransaction(Work<T> work) {
        try (Connection c = pool.getConnection()) {
            c.setAutoCommit(false);
            try {
                final T result = work.run(new Tx(c));
                c.commit();
                return result;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw new IllegalStateException("accounts: " + e.getMessage(), e);
        }
    }

    /** Statements inside one transaction. */
    static final class Tx {
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

        long queryLong(String sql, Object... args) throws SQLException {
            final List<Long> rows = query(rs -> rs.getLong(1), sql, args);
            return rows.isEmpty() ? 0 : rows.get(0);
        }

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


    @Override
    public void close() {
        pool.close();
    }
}
