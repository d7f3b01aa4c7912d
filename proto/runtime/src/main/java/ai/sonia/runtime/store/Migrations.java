package ai.sonia.runtime.store;

import static java.util.Objects.requireNonNull;

import java.io.PrintWriter;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.logging.Logger;

import javax.sql.DataSource;

import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.migration.JavaMigration;
import org.flywaydb.core.api.output.MigrateResult;
import org.slf4j.LoggerFactory;

/**
 * Every store's schema changes, through <a href="https://documentation.red-gate.com/fd">Flyway</a>: one tool
 * for every store, with a history table, checksums of applied migrations, and the same migrations on
 * SQLite now and on PostgreSQL for the scale-out (Flyway supports both; SQLite is in {@code flyway-core}).
 *
 * <p>A store keeps its migrations on the classpath:
 * <ul>
 *   <li>SQL in {@code src/main/resources/<location>/V<n>__<what>.sql}, with {@code location} like
 *       {@code "db/pipecat/sessions"};</li>
 *   <li>where SQL cannot say it, Java classes {@code V<n>__<What>} extending Flyway's
 *       {@code BaseJavaMigration} in a package the store names
 *       ({@link #migrate(Connection, String, String, LegacyVersion)}), e.g. {@code ai.sonia.<svc>.store.migrations}.
 *       SQL and Java migrations share one version sequence.</li>
 * </ul>
 * On PostgreSQL ({@link Postgres#migrate}) a store's SQL lives in the sibling tree
 * {@code db/postgresql/<svc>/<store>/} (Flyway scans a location's subdirectories, so it cannot sit under the
 * SQLite location), with the same history table name.
 *
 * <p>Migrations are only ever appended, never edited (Flyway refuses a changed checksum). Each runs in its own
 * transaction: a failed one leaves the schema at the last whole version and fails with a
 * {@link SQLException} naming the migration and SQLite's reason.
 *
 * <p>Flyway runs on the store's already open connection (a non-closing {@link DataSource} over it), so
 * migrations see the same pragmas, the {@code unix-excl} VFS of {@link Sqlite#open} and in-memory test
 * databases alike. Each location has its own history table ({@code flyway_<location with _>}, e.g.
 * {@code flyway_db_pipecat_sessions}), so stores that share a database file do not see each other's
 * migrations.
 *
 * <p><b>Databases made before Flyway</b> (the store's tables present, no history table) are adopted: the
 * store's {@link LegacyVersion} says which of its versions such a database already has (for a schema kept
 * by {@code PRAGMA user_version}, {@link #USER_VERSION}); Flyway records that version as the baseline and
 * applies only the later migrations. When it answers null (or with the two- and three-argument forms, which
 * have none), a database that holds tables but no history gets every migration from V1: the store's V1 must
 * then be idempotent ({@code CREATE TABLE IF NOT EXISTS ...}), which also fits a new store added to a
 * shared file. A fresh, empty database simply gets every migration.
 */
public final class Migrations {

    private static final org.slf4j.Logger logger = LoggerFactory.getLogger(Migrations.class);

    /** Which version a database made before Flyway already has. */
    @FunctionalInterface
    public interface LegacyVersion {
        /**
         * The version (as in {@code V<version>__...}) that the store's tables in this database, made before
         * its first Flyway migration, correspond to; null when they hold none of the store's tables (or when
         * V1 is idempotent and should simply run).
         */
        String of(Connection connection) throws SQLException;
    }

    /**
     * For a schema kept as an ordered list of migrations by {@code PRAGMA user_version}: a database at
     * user_version N has versions 1..N, so later Flyway migrations start at V(N+1); 0 means none.
     */
    public static final LegacyVersion USER_VERSION = connection -> {
        try (var statement = connection.createStatement();
             var rs = statement.executeQuery("PRAGMA user_version")) {
            final int version = rs.next() ? rs.getInt(1) : 0;
            return version == 0 ? null : String.valueOf(version);
        }
    };

    /** Applies the SQL migrations under classpath {@code location} not yet applied to this database. */
    public static MigrateResult migrate(Connection connection, String location) throws SQLException {
        return migrate(connection, location, null, c -> null);
    }

    /** Same, with the Java migrations ({@code V<n>__...} classes) of {@code javaMigrationPackage}. */
    public static MigrateResult migrate(Connection connection, String location, String javaMigrationPackage)
            throws SQLException {
        return migrate(connection, location, javaMigrationPackage, c -> null);
    }

    /**
     * Applies the migrations under classpath {@code location} and, when not null, the Java migrations of
     * {@code javaMigrationPackage}; a database made before Flyway is adopted at the version {@code legacy}
     * names. Returns what was applied.
     *
     * @throws SQLException when a migration fails (its transaction rolled back) or the database has a
     *         migration this build does not know or one whose checksum changed
     */
    public static MigrateResult migrate(Connection connection, String location, String javaMigrationPackage,
                                        LegacyVersion legacy) throws SQLException {
        return migrate(connection, location, historyTable(location), javaMigrationPackage, legacy);
    }

    /** Same, with the migrations {@code more} made by code (e.g. {@link AppendOnly#migration}) in the sequence. */
    public static MigrateResult migrate(Connection connection, String location, String javaMigrationPackage,
                                        LegacyVersion legacy, JavaMigration... more) throws SQLException {
        return migrate(connection, location, historyTable(location), javaMigrationPackage, legacy, more);
    }

    /**
     * The SQL under {@code sqlLocation} with the history table of store {@code storeLocation}: a store's
     * PostgreSQL migrations ({@link Postgres#migrate}) keep the same history table name as its SQLite ones.
     */
    static MigrateResult migrateAs(Connection connection, String sqlLocation, String storeLocation,
                                   JavaMigration... more) throws SQLException {
        return migrate(connection, sqlLocation, historyTable(storeLocation), null, c -> null, more);
    }

    private static MigrateResult migrate(Connection connection, String location, String table,
                                         String javaMigrationPackage, LegacyVersion legacy, JavaMigration... more)
            throws SQLException {
        requireNonNull(connection, "connection");
        requireNonNull(location, "location");
        requireNonNull(legacy, "legacy");
        final List<String> locations = new ArrayList<>();
        locations.add("classpath:" + location);
        if (javaMigrationPackage != null) {
            locations.add("classpath:" + javaMigrationPackage.replace('.', '/'));
        }
        final String baseline = hasTable(connection, table) ? null : legacy.of(connection);
        final boolean autoCommit = connection.getAutoCommit();
        try {
            final MigrateResult result =
                    Flyway.configure(Migrations.class.getClassLoader())
                          .dataSource(new BorrowedConnection(connection))
                          .locations(locations.toArray(String[]::new))
                          .javaMigrations(more)
                          .table(table)
                          .baselineOnMigrate(true) // applies only to a non-empty database without history
                          .baselineVersion(baseline == null ? "0" : baseline)
                          .baselineDescription(baseline == null ? "<< before Flyway: every migration runs >>"
                                                                : "<< before Flyway: schema at " + baseline + " >>")
                          .validateMigrationNaming(true)
                          .load()
                          .migrate();
            if (result.migrationsExecuted > 0) {
                logger.atInfo().addKeyValue("location", location)
                      .addKeyValue("from", String.valueOf(result.initialSchemaVersion))
                      .addKeyValue("to", String.valueOf(result.targetSchemaVersion))
                      .log("Migrated {} from version {} to {} ({} migrations)", location,
                           result.initialSchemaVersion, result.targetSchemaVersion, result.migrationsExecuted);
            }
            return result;
        } catch (FlywayException e) {
            throw new SQLException("migrating " + location + " failed: " + e.getMessage(), e);
        } finally {
            if (!connection.isClosed() && connection.getAutoCommit() != autoCommit) {
                connection.setAutoCommit(autoCommit);
            }
        }
    }

    /** The history table of a location: {@code db/pipecat/sessions} keeps {@code flyway_db_pipecat_sessions}. */
    static String historyTable(String location) {
        return "flyway_" + location.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "_")
                                   .replaceAll("^_|_$", "");
    }

    private static boolean hasTable(Connection connection, String table) throws SQLException {
        try (var rs = connection.getMetaData().getTables(null, null, table, null)) {
            return rs.next();
        }
    }

    /**
     * A data source that lends Flyway the caller's open connection and ignores Flyway's close: the store
     * keeps it, with its pragmas and VFS (and an in-memory database keeps its data).
     */
    private static final class BorrowedConnection implements DataSource {
        private final Connection proxy;

        BorrowedConnection(Connection connection) {
            final InvocationHandler handler = (self, method, args) -> {
                switch (method.getName()) {
                    case "close":
                        return null;
                    case "isClosed":
                        return connection.isClosed();
                    default:
                        try {
                            return method.invoke(connection, args);
                        } catch (InvocationTargetException e) {
                            throw e.getCause();
                        }
                }
            };
            proxy = (Connection) Proxy.newProxyInstance(Connection.class.getClassLoader(),
                                                        new Class<?>[] {Connection.class}, handler);
        }

        @Override
        public Connection getConnection() {
            return proxy;
        }

        @Override
        public Connection getConnection(String username, String password) {
            return proxy;
        }

        @Override
        public PrintWriter getLogWriter() {
            return null;
        }

        @Override
        public void setLogWriter(PrintWriter out) {}

        @Override
        public void setLoginTimeout(int seconds) {}

        @Override
        public int getLoginTimeout() {
            return 0;
        }

        @Override
        public Logger getParentLogger() {
            return Logger.getGlobal();
        }

        @Override
        public <T> T unwrap(Class<T> type) throws SQLException {
            throw new SQLException("not a wrapper");
        }

        @Override
        public boolean isWrapperFor(Class<?> type) {
            return false;
        }
    }

    private Migrations() {}
}
