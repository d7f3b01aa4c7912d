package ai.sonia.gateway.store;

import ai.sonia.runtime.store.Postgres;
import ai.sonia.runtime.store.PostgresPool;

/**
 * The gateway's accounts database on PostgreSQL (with {@code store.engine} postgres), shared by every
 * replica: one {@link PostgresPool}, its schema migrated on open (the SQL of
 * {@code db/postgresql/gateway/accounts}, and the audit kept append-only by {@link SqliteAuditLog#APPEND_ONLY}),
 * for the stores on it, {@link PostgresAccountStore} and {@link PostgresAuditLog}.
 */
public final class PostgresDatabase {

    private static final String POOL = "gateway-accounts";

    /**
     * Connects to the settings' database and migrates the accounts' schema.
     *
     * @throws IllegalStateException when the database cannot be reached or migrated
     */
    public static PostgresPool open(Postgres.Settings settings) {
        return PostgresPool.open(settings, POOL, SqliteDatabase.MIGRATIONS, "gateway", POOL, SqliteAuditLog.APPEND_ONLY);
    }

    private PostgresDatabase() {}
}
