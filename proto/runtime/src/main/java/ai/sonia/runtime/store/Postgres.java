package ai.sonia.runtime.store;

import static java.util.Objects.requireNonNull;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

import javax.sql.DataSource;

import org.flywaydb.core.api.migration.JavaMigration;

import com.linecorp.armeria.common.annotation.Nullable;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;

import ai.sonia.common.v1.ErrorCode;
import ai.sonia.runtime.ConfigKey;
import ai.sonia.runtime.OwnerOnlyFiles;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.errors.DomainException;

/**
 * The cluster engine for the relational stores: one PostgreSQL that every replica of a service shares, chosen
 * in the config's top-level {@code store} section. The single-machine default stays SQLite
 * ({@link Sqlite}), nothing else to install:
 *
 * <pre>{@code
 * "store": { "engine": "postgres",                               // default: "sqlite"
 *            "postgres": { "url": "jdbc:postgresql://db:5432/sonia",
 *                          "user": "sonia",
 *                          "passwordFile": "secrets/postgres",   // owner-only, relative to SONIA_HOME
 *                          "poolSize": 4 } }
 * }</pre>
 * Each store opens its own pool ({@link #open}, HikariCP) and migrates its own schema ({@link #migrate}): the
 * PostgreSQL SQL of store {@code db/<svc>/<store>} lives under {@code db/postgresql/<svc>/<store>/} (a sibling
 * tree, since Flyway scans a location's subdirectories, so the SQLite location cannot hold it), with the same
 * history table name as on SQLite. The password is read from its file, which must be owner-only, and is never
 * logged or printed; a PostgreSQL that cannot be reached fails the service's start-up (fail closed).
 */
public final class Postgres {

    /** The keys of the top-level {@code store} section. */
    @ConfigKey("Where the relational stores live (every replica of a service on one PostgreSQL, or SQLite files).")
    public record Keys(
            @ConfigKey(value = "sqlite (files under each service's data directory) or postgres (store.postgres).",
                       def = "sqlite") String engine,
            @ConfigKey("The PostgreSQL of engine postgres.") PostgresKeys postgres) {}

    /** The keys of {@code store.postgres}. */
    public record PostgresKeys(
            @ConfigKey("JDBC URL, e.g. jdbc:postgresql://db:5432/sonia (currentSchema=... picks a schema).")
            String url,
            @ConfigKey("The database user.") String user,
            @ConfigKey("File holding the user's password, owner-only (relative to SONIA_HOME).") String passwordFile,
            @ConfigKey(value = "Connections per store's pool.", def = "4") int poolSize) {}

    /** Where a store's data lives: SQLite, or the PostgreSQL of these settings. */
    public static final class Settings {
        private final String url;
        private final String user;
        private final String password;
        private final int poolSize;

        public Settings(String url, String user, String password, int poolSize) {
            this.url = requireNonNull(url, "url");
            this.user = requireNonNull(user, "user");
            this.password = requireNonNull(password, "password");
            if (poolSize < 1) {
                throw new IllegalArgumentException("store.postgres.poolSize: " + poolSize + " (expected: >= 1)");
            }
            this.poolSize = poolSize;
        }

        /** The URL without its query, which may carry credentials: for messages and logs. */
        public String shownUrl() {
            final int query = url.indexOf('?');
            return query < 0 ? url : url.substring(0, query);
        }

        @Override
        public String toString() {
            return "PostgreSQL " + shownUrl() + " as " + user + " (pool " + poolSize + ")";
        }
    }

    /**
     * The PostgreSQL settings of the stack's {@code store} section, or null when the engine is SQLite.
     *
     * @throws IllegalArgumentException for an unknown engine, a missing key, or a password file that is
     *         missing, empty or readable by others
     */
    @Nullable
    public static Settings from(StackConfig config) {
        final Keys keys = config.section("store", Keys.class);
        final String engine = keys.engine() == null ? "sqlite" : keys.engine().trim().toLowerCase(Locale.ROOT);
        switch (engine) {
            case "sqlite":
                return null;
            case "postgres":
            case "postgresql":
                break;
            default:
                throw new IllegalArgumentException("store.engine: unknown " + keys.engine()
                                                   + " (expected: sqlite or postgres)");
        }
        final PostgresKeys pg = keys.postgres();
        return new Settings(required(pg.url(), "url"), required(pg.user(), "user"),
                            OwnerOnlyFiles.readPassword(config.home().resolve(required(pg.passwordFile(), "passwordFile")),
                                                       "store.postgres.passwordFile"),
                            pg.poolSize());
    }

    /**
     * A pool of connections to the settings' database named {@code name} (e.g. {@code router-ledger}), with
     * one connection made at once: a database that cannot be reached fails here, naming it and the reason.
     */
    public static HikariDataSource open(Settings settings, String name) {
        final HikariConfig hikari = new HikariConfig();
        hikari.setPoolName(name);
        hikari.setJdbcUrl(settings.url);
        hikari.setUsername(settings.user);
        hikari.setPassword(settings.password);
        hikari.setMaximumPoolSize(settings.poolSize);
        hikari.setConnectionTimeout(5_000);
        hikari.setInitializationFailTimeout(1); // one attempt at start: fail closed, at once
        try {
            return new HikariDataSource(hikari);
        } catch (RuntimeException e) {
            throw new IllegalStateException("store.engine is postgres, but " + settings.shownUrl()
                                            + " cannot be reached for " + name + ": " + reason(e), e);
        }
    }

    /**
     * {@link #open} and {@link #migrate} for store {@code location} ({@code db/<svc>/<store>}): the pool, its
     * schema up to date; closed again when the migration fails.
     *
     * @throws IllegalStateException when the database cannot be reached (naming it) or migrated
     */
    public static HikariDataSource openMigrated(Settings settings, String name, String location,
                                                JavaMigration... migrations) {
        final HikariDataSource pool = open(settings, name);
        try {
            migrate(pool, location, migrations);
            return pool;
        } catch (SQLException | RuntimeException e) {
            pool.close();
            throw new IllegalStateException("cannot migrate " + location + " on " + settings + ": " + e.getMessage(), e);
        }
    }

    /**
     * One connection of its own to the settings' database, outside any pool, named {@code name}: for a
     * session that lives as long as the service, such as a {@code LISTEN}.
     *
     * @throws SQLException when the database cannot be reached (the message names the URL, not the password)
     */
    public static Connection connect(Settings settings, String name) throws SQLException {
        try {
            return DriverManager.getConnection(settings.url, login(settings, name, 5));
        } catch (SQLException e) {
            throw new SQLException(settings.shownUrl() + " cannot be reached for " + name + ": " + reason(e),
                                   e.getSQLState(), e);
        }
    }

    /** One step of a store, run by {@link #inTransaction}. */
    @FunctionalInterface
    public interface Work<T> {
        T run(Connection connection) throws SQLException;
    }

    /** How often {@link #inTransaction} runs a step that PostgreSQL aborted for a deadlock or serialization. */
    static final int ATTEMPTS = 3;

    /**
     * Runs {@code work} on a connection of {@code pool} in one transaction, committed when it returns and
     * rolled back when it throws; run again (up to {@value #ATTEMPTS} times in all) when PostgreSQL aborted it
     * for a deadlock or a serialization failure, which rolled all of it back. {@code work} must therefore do
     * nothing but its statements on the connection.
     */
    public static <T> T inTransaction(DataSource pool, Work<T> work) throws SQLException {
        for (int attempt = 1; ; attempt++) {
            try (Connection c = pool.getConnection()) {
                c.setAutoCommit(false);
                try {
                    final T result = work.run(c);
                    c.commit();
                    return result;
                } catch (SQLException | RuntimeException e) {
                    rollback(c, e);
                    throw e;
                }
            } catch (SQLException e) {
                if (attempt >= ATTEMPTS || !retriable(e)) {
                    throw e;
                }
            }
        }
    }

    /**
     * Runs {@code read} on one snapshot of the database (a read-only REPEATABLE READ transaction, rolled back
     * afterwards): every statement of it sees the same committed state, and large results may stream.
     */
    public static <T> T inSnapshot(DataSource pool, Work<T> read) throws SQLException {
        try (Connection c = pool.getConnection()) {
            c.setAutoCommit(false);
            c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
            c.setReadOnly(true);
            final T result;
            try {
                result = read.run(c);
            } catch (SQLException | RuntimeException e) {
                rollback(c, e);
                throw e;
            }
            c.rollback();
            return result;
        }
    }

    /**
     * Rolls back after {@code failure}, which stays the exception thrown: a connection the failure closed (the
     * server gone) cannot roll back, and that must not hide why.
     */
    private static void rollback(Connection c, Exception failure) {
        try {
            c.rollback();
        } catch (SQLException e) {
            failure.addSuppressed(e);
        }
    }

    /** A deadlock or serialization failure: PostgreSQL rolled the transaction back, and it may simply run again. */
    static boolean retriable(SQLException e) {
        return "40P01".equals(e.getSQLState()) || "40001".equals(e.getSQLState());
    }

    /**
     * Connects to the settings' database once, on a connection of its own, within about a second, and closes
     * it: the readiness ping of {@code /readyz}, which must not wait for (or take) a pooled connection.
     *
     * @throws SQLException when the database cannot be reached or refuses the login
     */
    public static void ping(Settings settings) throws SQLException {
        final Properties properties = login(settings, "readiness", 1);
        properties.setProperty("loginTimeout", "2");
        properties.setProperty("socketTimeout", "2");
        try (Connection connection = DriverManager.getConnection(settings.url, properties)) {
            if (!connection.isValid(1)) {
                throw new SQLException("the connection did not answer within 1 s");
            }
        }
    }

    /** The login of a connection outside the pool, named {@code name}, giving up after {@code seconds}. */
    private static Properties login(Settings settings, String name, int seconds) {
        final Properties properties = new Properties();
        properties.setProperty("user", settings.user);
        properties.setProperty("password", settings.password);
        properties.setProperty("ApplicationName", name);
        properties.setProperty("connectTimeout", String.valueOf(seconds));
        return properties;
    }

    /**
     * Applies the PostgreSQL migrations of store {@code location} ({@code db/<svc>/<store>}) not yet applied,
     * one migration of the schema at a time across every process that shares it.
     *
     * <p>Why a lock of our own: Flyway locks only once a store's history table exists. Replicas starting together
     * on a fresh schema would both find no history; the first makes its table, and the second, now seeing a
     * schema that is not empty, takes it for a database made before Flyway and fails to baseline it. A session
     * advisory lock keyed by the schema, held around the whole migration, makes the second wait and then find
     * the history the first wrote.
     */
    public static void migrate(DataSource dataSource, String location, JavaMigration... migrations)
            throws SQLException {
        try (Connection connection = dataSource.getConnection()) {
            schemaLock(connection, "pg_advisory_lock");
            try {
                Migrations.migrateAs(connection, sqlLocation(location), location, migrations);
            } finally {
                schemaLock(connection, "pg_advisory_unlock");
            }
        }
    }

    /** Takes or gives back ({@code function}) the migration lock of the connection's current schema. */
    private static void schemaLock(Connection connection, String function) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(
                "SELECT " + function + "(hashtext('sonia.migrate'), hashtext(coalesce(current_schema(), '')))")) {
            statement.execute();
        }
    }

    /**
     * The exception to throw for a failed statement of {@code service}'s store {@code name} (its pool's name): a
     * {@link StoreUnavailableException} (UNAVAILABLE, retriable) when the database cannot be reached now (a
     * connection error, no connection from the pool in time, a server shutting down); the caller's
     * INVALID_ARGUMENT for text PostgreSQL cannot hold (a NUL character, which SQLite keeps); else {@code
     * otherwise}.
     */
    public static RuntimeException unavailableOr(SQLException e, String service, String name,
                                                 RuntimeException otherwise) {
        final String state = e.getSQLState() == null ? "" : e.getSQLState();
        if (e instanceof SQLTransientConnectionException || state.startsWith("08") || state.startsWith("57P")) {
            return new StoreUnavailableException(service, name, "PostgreSQL cannot be reached", e);
        }
        if (state.equals("22021") || state.equals("22P05")) {
            return DomainException.of(ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
                                      "text with a NUL character cannot be stored", Map.of("store", name));
        }
        return otherwise;
    }

    /** Where the PostgreSQL SQL of store {@code db/<svc>/<store>} lives: {@code db/postgresql/<svc>/<store>}. */
    static String sqlLocation(String location) {
        if (!location.startsWith("db/")) {
            throw new IllegalArgumentException("a store's location starts with db/: " + location);
        }
        return "db/postgresql/" + location.substring("db/".length());
    }

    private static String reason(Throwable e) {
        Throwable cause = e;
        while (cause.getCause() != null) {
            cause = cause.getCause();
        }
        return String.valueOf(cause.getMessage());
    }

    private static String required(@Nullable String value, String key) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException("store.postgres." + key + " is required with store.engine postgres");
        }
        return value.trim();
    }

    private Postgres() {}
}
