package ai.sonia.runtime.store;

import java.sql.SQLException;

import org.flywaydb.core.api.migration.JavaMigration;

import com.zaxxer.hikari.HikariDataSource;

/**
 * A PostgreSQL store's pool, its schema migrated, and the one way every PostgreSQL store runs a step: in one
 * transaction ({@link Postgres#inTransaction}) or on one snapshot ({@link Postgres#inSnapshot}), a failure
 * mapped by {@link Postgres#unavailableOr}: UNAVAILABLE when PostgreSQL cannot be reached, INVALID_ARGUMENT for
 * text it cannot hold, else an {@link IllegalStateException} (INTERNAL, the cause in the server log).
 */
public final class PostgresPool implements AutoCloseable {

    private final HikariDataSource pool;
    private final String service;
    private final String store;

    private PostgresPool(HikariDataSource pool, String service, String store) {
        this.pool = pool;
        this.service = service;
        this.store = store;
    }

    /**
     * Opens the pool {@code name} (e.g. {@code router-ledger}) of {@code service}'s store {@code store} (its
     * name in errors) and migrates the schema of {@code location} ({@code db/<svc>/<store>}: the SQL under
     * {@code db/postgresql/<svc>/<store>}, and {@code migrations}, e.g. {@link AppendOnly#migration}).
     *
     * @throws IllegalStateException when the database cannot be reached (naming it) or migrated
     */
    public static PostgresPool open(Postgres.Settings settings, String name, String location, String service,
                                    String store, JavaMigration... migrations) {
        return new PostgresPool(Postgres.openMigrated(settings, name, location, migrations), service, store);
    }

    /** Runs {@code work} in one transaction ({@link Postgres#inTransaction}), its failure mapped. */
    public <T> T inTransaction(Postgres.Work<T> work) {
        try {
            return Postgres.inTransaction(pool, work);
        } catch (SQLException e) {
            throw failure(e);
        }
    }

    /** Runs {@code read} on one snapshot ({@link Postgres#inSnapshot}), its failure mapped. */
    public <T> T inSnapshot(Postgres.Work<T> read) {
        try {
            return Postgres.inSnapshot(pool, read);
        } catch (SQLException e) {
            throw failure(e);
        }
    }

    private RuntimeException failure(SQLException e) {
        return Postgres.unavailableOr(e, service, store, new IllegalStateException(store + ": " + e.getMessage(), e));
    }

    @Override
    public void close() {
        pool.close();
    }
}
