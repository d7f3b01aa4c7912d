package ai.sonia.gateway.store;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;

import ai.sonia.runtime.store.Migrations;
import ai.sonia.runtime.store.Sql;
import ai.sonia.runtime.store.Sqlite;
import ai.sonia.runtime.store.StoreHealth;

/**
 * The gateway's accounts database ({@code dataDir("gateway")/accounts.db}): one connection through the
 * runtime's {@link Sqlite#open}, its schema migrated on open by {@link Migrations} (Flyway, from
 * {@code db/gateway/accounts}), and the few statement helpers its stores share.
 * A storage fault (disk full, I/O error) is reported to the database's {@link StoreHealth} and thrown as
 * UNAVAILABLE; each helper is one synchronized step on the connection.
 */
public final class SqliteDatabase implements AutoCloseable {

    /** The store's location: its SQL migrations, and on PostgreSQL those under {@code db/postgresql/}. */
    static final String MIGRATIONS = "db/gateway/accounts";

    private final Connection connection;
    private final StoreHealth health;

    private SqliteDatabase(Connection connection, StoreHealth health) {
        this.connection = connection;
        this.health = health;
    }

    /** Opens (creating or upgrading it in place) the accounts database at {@code file}. */
    public static SqliteDatabase open(Path file) {
        try {
            final Connection connection = Sqlite.open(file, "secure_delete = ON");
            try {
                // Databases of earlier builds kept their schema version in user_version (1: accounts, 2: audit).
                Migrations.migrate(connection, MIGRATIONS, null, Migrations.USER_VERSION, SqliteAuditLog.APPEND_ONLY);
            } catch (SQLException | RuntimeException e) {
                connection.close();
                throw e;
            }
            return new SqliteDatabase(connection, new StoreHealth(file));
        } catch (SQLException e) {
            throw new IllegalStateException("cannot open accounts database " + file + ": " + e.getMessage(), e);
        }
    }

    synchronized <T> List<T> query(Sql.Row<T> row, String sql, Object... args) {
        try {
            return Sql.query(connection, row, sql, args);
        } catch (SQLException e) {
            throw health.unavailableOr(e, new IllegalStateException("cannot read accounts: " + e.getMessage(), e));
        }
    }

    long queryLong(String sql, Object... args) {
        final List<Long> rows = query(rs -> rs.getLong(1), sql, args);
        return rows.isEmpty() ? 0 : rows.get(0);
    }

    /** Runs a change; the number of rows changed. */
    synchronized int update(String sql, Object... args) {
        try {
            return Sql.update(connection, sql, args);
        } catch (SQLException e) {
            throw health.unavailableOr(e, new IllegalStateException("cannot write accounts: " + e.getMessage(), e));
        }
    }

    /** Runs an insert; the rowid it made. */
    synchronized long insert(String sql, Object... args) {
        update(sql, args);
        return queryLong("SELECT last_insert_rowid()");
    }

    @Override
    public synchronized void close() {
        health.close();
        try {
            connection.close();
        } catch (SQLException ignored) {
            // closing at shutdown: nothing left to do
        }
    }
}
