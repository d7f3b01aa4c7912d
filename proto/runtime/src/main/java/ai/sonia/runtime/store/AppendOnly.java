package ai.sonia.runtime.store;

import static java.util.Objects.requireNonNull;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Locale;

import org.flywaydb.core.api.MigrationVersion;
import org.flywaydb.core.api.migration.Context;
import org.flywaydb.core.api.migration.JavaMigration;

/**
 * Append-only tables (audits, decisions): what is appended is never changed or removed. Triggers refuse
 * {@code UPDATE} and {@code DELETE} on both engines, and {@code TRUNCATE} on PostgreSQL, failing the statement
 * with the store's message. A store installs them through a migration of its own version sequence,
 * {@link #migration}, passed to {@link Migrations#migrate(Connection, String, String, Migrations.LegacyVersion,
 * JavaMigration...)} and {@link PostgresPool#open}; the triggers are replaced when present (the names are
 * those every store used before: {@code <table>_no_update}/{@code _no_delete} on SQLite, the function and
 * trigger {@code <table>_append_only} and {@code <table>_never_truncated} on PostgreSQL).
 */
public final class AppendOnly {

    /**
     * The Flyway migration {@code V<version>} that makes {@code table} append-only on the store's engine,
     * refusing a change with {@code message}.
     */
    public static JavaMigration migration(String version, String table, String message) {
        final MigrationVersion v = MigrationVersion.fromVersion(requireNonNull(version, "version"));
        checkName(table);
        requireNonNull(message, "message");
        return new JavaMigration() {
            @Override
            public MigrationVersion getVersion() {
                return v;
            }

            @Override
            public String getDescription() {
                return table + " append-only";
            }

            @Override
            public Integer getChecksum() {
                return null;
            }

            @Override
            public boolean canExecuteInTransaction() {
                return true;
            }

            @Override
            public void migrate(Context context) throws SQLException {
                install(context.getConnection(), table, message);
            }
        };
    }

    /** Installs (or replaces) the triggers that keep {@code table} append-only on {@code connection}'s engine. */
    static void install(Connection connection, String table, String message) throws SQLException {
        final boolean postgres = connection.getMetaData().getDatabaseProductName().toLowerCase(Locale.ROOT)
                                           .contains("postgres");
        final String text = "'" + message.replace("'", "''") + "'";
        final List<String> statements;
        if (postgres) {
            statements = List.of(
                    "CREATE OR REPLACE FUNCTION " + table + "_append_only() RETURNS trigger LANGUAGE plpgsql AS $$"
                    + " BEGIN RAISE EXCEPTION " + text.replace("%", "%%") + "; END $$",
                    "DROP TRIGGER IF EXISTS " + table + "_append_only ON " + table,
                    "CREATE TRIGGER " + table + "_append_only BEFORE UPDATE OR DELETE ON " + table
                    + " FOR EACH ROW EXECUTE FUNCTION " + table + "_append_only()",
                    "DROP TRIGGER IF EXISTS " + table + "_never_truncated ON " + table,
                    "CREATE TRIGGER " + table + "_never_truncated BEFORE TRUNCATE ON " + table
                    + " FOR EACH STATEMENT EXECUTE FUNCTION " + table + "_append_only()");
        } else {
            statements = List.of(
                    "DROP TRIGGER IF EXISTS " + table + "_no_update",
                    "CREATE TRIGGER " + table + "_no_update BEFORE UPDATE ON " + table
                    + " BEGIN SELECT RAISE(ABORT, " + text + "); END",
                    "DROP TRIGGER IF EXISTS " + table + "_no_delete",
                    "CREATE TRIGGER " + table + "_no_delete BEFORE DELETE ON " + table
                    + " BEGIN SELECT RAISE(ABORT, " + text + "); END");
        }
        try (Statement s = connection.createStatement()) {
            for (String sql : statements) {
                s.execute(sql);
            }
        }
    }

    private static void checkName(String table) {
        if (table == null || !table.matches("[a-z_][a-z0-9_]*")) {
            throw new IllegalArgumentException("table: " + table + " (expected: a lower-case SQL name)");
        }
    }

    private AppendOnly() {}
}
