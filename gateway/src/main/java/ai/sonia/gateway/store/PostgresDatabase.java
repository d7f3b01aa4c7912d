package ai.sonia.gateway.store;

import java.sql.SQLException;

import com.zaxxer.hikari.HikariDataSource;

import ai.sonia.runtime.store.Postgres;

/**
 * The gateway's accounts database on PostgreSQL (with {@code store.engine} postgres), shared by every
 * replica: one pool, its schema migrated on open by {@link Postgres#openMigrated} (the SQL of
 * {@code db/postgresql/gateway/accounts}), and one transaction per step ({@link #inTransaction}) for the
 * stores on it, {@link PostgresAccountStore} and {@link PostgresAuditLog}.
 */
public final class PostgresDatabase implements AutoCloseable {

    /** The store's location (its SQLite sibling's), whose PostgreSQL SQL is under {@code db/postgresql/}. */
    static final String MIGRATIONS = "db/gateway/accounts";

    private static final String POOL = "gateway-accounts";

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
        return new PostgresDatabase(Postgres.openMigrated(settings, POOL, MIGRATIONS));
    }

    /** One step of a store, run in a transaction. */
    @FunctionalInterface
    interface Work<T> {
        T run(Tx tx) throws SQLException;
    }

    /**
     * Runs {@code work} in one transaction ({@link Postgres#inTransaction}); UNAVAILABLE when PostgreSQL
     * cannot be reached ({@link Postgres#unavailableOr}), else the server's error (INTERNAL).
     */
    <T> T inTransaction(Work<T> work) {
        try {
            return Postgres.inTransaction(pool, c -> work.run(new Tx(c)));
        } catch (SQLException e) {
            throw Postgres.unavailableOr(e, "gateway", POOL, new IllegalStateException("accounts: " + e.getMessage(), e));
        }
    }

    @Override
    public void close() {
        pool.close();
    }
}
