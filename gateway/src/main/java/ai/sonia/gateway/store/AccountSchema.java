package ai.sonia.gateway.store;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * The accounts database's schema as an ordered list of migrations, applied by {@code PRAGMA user_version},
 * each in its own transaction. Migrations are only ever appended, never edited.
 */
final class AccountSchema {

    private static final List<List<String>> MIGRATIONS = List.of(
            // Version 1: tenants, users, login sessions with their (hashed) refresh tokens, and (hashed) API keys.
            // No foreign keys on sessions and keys: a deleted user's revoked sessions stay on record, so the
            // revocation of their access tokens survives a restart.
            List.of("""
                    CREATE TABLE tenants (
                      id TEXT PRIMARY KEY,
                      create_ms INTEGER NOT NULL)""",
                    """
                    CREATE TABLE users (
                      id TEXT PRIMARY KEY,
                      tenant TEXT NOT NULL REFERENCES tenants(id),
                      username TEXT NOT NULL UNIQUE COLLATE NOCASE,
                      display_name TEXT NOT NULL,
                      password_hash TEXT NOT NULL,
                      role TEXT NOT NULL,
                      create_ms INTEGER NOT NULL,
                      disabled INTEGER NOT NULL DEFAULT 0)""",
                    "CREATE INDEX users_by_tenant ON users(tenant, username)",
                    """
                    CREATE TABLE sessions (
                      id TEXT PRIMARY KEY,
                      user_id TEXT NOT NULL,
                      create_ms INTEGER NOT NULL,
                      revoked_ms INTEGER NOT NULL DEFAULT 0)""",
                    "CREATE INDEX sessions_by_user ON sessions(user_id)",
                    "CREATE INDEX sessions_by_revocation ON sessions(revoked_ms)",
                    """
                    CREATE TABLE refresh_tokens (
                      hash TEXT PRIMARY KEY,
                      session_id TEXT NOT NULL,
                      create_ms INTEGER NOT NULL,
                      expire_ms INTEGER NOT NULL,
                      used_ms INTEGER NOT NULL DEFAULT 0)""",
                    "CREATE INDEX refresh_tokens_by_session ON refresh_tokens(session_id)",
                    """
                    CREATE TABLE api_keys (
                      id TEXT PRIMARY KEY,
                      tenant TEXT NOT NULL,
                      owner TEXT NOT NULL,
                      name TEXT NOT NULL,
                      role TEXT NOT NULL,
                      secret_hash TEXT NOT NULL,
                      create_ms INTEGER NOT NULL,
                      revoked_ms INTEGER NOT NULL DEFAULT 0)""",
                    "CREATE INDEX api_keys_by_owner ON api_keys(tenant, owner)"),
            // Version 2: the security events of each tenant, append-only (the triggers refuse changes). A
            // sign-in under an unknown name belongs to no tenant (""): no tenant's admin sees it.
            List.of("""
                    CREATE TABLE audit_events (
                      seq INTEGER PRIMARY KEY AUTOINCREMENT,
                      tenant TEXT NOT NULL,
                      time_ms INTEGER NOT NULL,
                      kind INTEGER NOT NULL,
                      success INTEGER NOT NULL,
                      actor TEXT NOT NULL,
                      user_id TEXT NOT NULL,
                      username TEXT NOT NULL,
                      address TEXT NOT NULL,
                      detail TEXT NOT NULL)""",
                    "CREATE INDEX audit_events_by_tenant ON audit_events(tenant, seq)",
                    """
                    CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
                    BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END""",
                    """
                    CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
                    BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END"""));

    static void apply(Connection connection) throws SQLException {
        final int current = version(connection);
        if (current > MIGRATIONS.size()) {
            throw new SQLException("accounts schema version " + current + " is newer than this build's "
                                   + MIGRATIONS.size());
        }
        for (int version = current + 1; version <= MIGRATIONS.size(); version++) {
            connection.setAutoCommit(false);
            try (Statement statement = connection.createStatement()) {
                for (String sql : MIGRATIONS.get(version - 1)) {
                    statement.execute(sql);
                }
                statement.execute("PRAGMA user_version = " + version);
                connection.commit();
            } catch (SQLException e) {
                connection.rollback();
                throw e;
            } finally {
                connection.setAutoCommit(true);
            }
        }
    }

    private static int version(Connection connection) throws SQLException {
        try (Statement statement = connection.createStatement();
             ResultSet rs = statement.executeQuery("PRAGMA user_version")) {
            return rs.next() ? rs.getInt(1) : 0;
        }
    }

    private AccountSchema() {}
}
