package ai.sonia.gateway.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import ai.sonia.common.v1.Role;
import ai.sonia.gateway.domain.AccountStore;
import ai.sonia.gateway.domain.AuditLog;
import ai.sonia.runtime.testing.TestHomes;

/**
 * Databases made by earlier builds (the schema versions kept in {@code PRAGMA user_version}) open in place:
 * their rows stay, what later versions add is added, and the audit stays append-only.
 */
class AccountsDatabaseUpgradeTest {

    /** The tables of user_version 1, as the first build made them. */
    private static final List<String> VERSION_1 = List.of(
            "CREATE TABLE tenants (id TEXT PRIMARY KEY, create_ms INTEGER NOT NULL)",
            """
            CREATE TABLE users (id TEXT PRIMARY KEY, tenant TEXT NOT NULL REFERENCES tenants(id),
              username TEXT NOT NULL UNIQUE COLLATE NOCASE, display_name TEXT NOT NULL, password_hash TEXT NOT NULL,
              role TEXT NOT NULL, create_ms INTEGER NOT NULL, disabled INTEGER NOT NULL DEFAULT 0)""",
            "CREATE INDEX users_by_tenant ON users(tenant, username)",
            """
            CREATE TABLE sessions (id TEXT PRIMARY KEY, user_id TEXT NOT NULL, create_ms INTEGER NOT NULL,
              revoked_ms INTEGER NOT NULL DEFAULT 0)""",
            "CREATE INDEX sessions_by_user ON sessions(user_id)",
            "CREATE INDEX sessions_by_revocation ON sessions(revoked_ms)",
            """
            CREATE TABLE refresh_tokens (hash TEXT PRIMARY KEY, session_id TEXT NOT NULL, create_ms INTEGER NOT NULL,
              expire_ms INTEGER NOT NULL, used_ms INTEGER NOT NULL DEFAULT 0)""",
            "CREATE INDEX refresh_tokens_by_session ON refresh_tokens(session_id)",
            """
            CREATE TABLE api_keys (id TEXT PRIMARY KEY, tenant TEXT NOT NULL, owner TEXT NOT NULL, name TEXT NOT NULL,
              role TEXT NOT NULL, secret_hash TEXT NOT NULL, create_ms INTEGER NOT NULL,
              revoked_ms INTEGER NOT NULL DEFAULT 0)""",
            "CREATE INDEX api_keys_by_owner ON api_keys(tenant, owner)",
            "INSERT INTO tenants VALUES ('default', 1)",
            "INSERT INTO users VALUES ('usr_1', 'default', 'admin', 'Administrator', 'hash', 'admin', 1, 0)",
            "INSERT INTO api_keys VALUES ('k1', 'default', 'usr_1', 'ci', 'user', 'secret', 2, 0)",
            "PRAGMA user_version = 1");

    /** What user_version 2 added: the audit, append-only. */
    private static final List<String> VERSION_2 = List.of(
            """
            CREATE TABLE audit_events (seq INTEGER PRIMARY KEY AUTOINCREMENT, tenant TEXT NOT NULL,
              time_ms INTEGER NOT NULL, kind INTEGER NOT NULL, success INTEGER NOT NULL, actor TEXT NOT NULL,
              user_id TEXT NOT NULL, username TEXT NOT NULL, address TEXT NOT NULL, detail TEXT NOT NULL)""",
            "CREATE INDEX audit_events_by_tenant ON audit_events(tenant, seq)",
            """
            CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
            BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END""",
            """
            CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
            BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END""",
            "INSERT INTO audit_events VALUES (7, 'default', 3, 1, 1, '', 'usr_1', 'admin', '127.0.0.1', 'old')",
            "PRAGMA user_version = 2");

    private final SqliteStores stores = new SqliteStores();

    @AfterEach
    void close() {
        stores.close();
    }

    @Test
    void aVersion1DatabaseKeepsItsAccountsAndGainsTheAudit() throws Exception {
        final Path file = legacy(VERSION_1);
        final SqliteDatabase db = stores.open(file);
        assertAccountsKept(db);
        final AuditLog audit = new SqliteAuditLog(db);
        audit.append(new AuditLog.AuditRow(0, "default", 4, 1, true, "", "usr_1", "admin", "", "new"));
        assertThat(audit.page("default", Long.MAX_VALUE, 10)).extracting(AuditLog.AuditRow::detail).containsExactly("new");
        stores.close();
        assertAppendOnly(file);
    }

    @Test
    void aVersion2DatabaseKeepsItsAccountsAndAudit() throws Exception {
        final Path file = legacy(VERSION_1, VERSION_2);
        final SqliteDatabase db = stores.open(file);
        assertAccountsKept(db);
        final AuditLog audit = new SqliteAuditLog(db);
        assertThat(audit.append(new AuditLog.AuditRow(0, "default", 4, 1, true, "", "usr_1", "admin", "", "new")))
                .isGreaterThan(7);
        assertThat(audit.page("default", Long.MAX_VALUE, 10)).extracting(AuditLog.AuditRow::detail)
                                                              .containsExactly("new", "old");
        stores.close();
        // Opening it again changes nothing.
        assertAccountsKept(stores.open(file));
        stores.close();
        assertAppendOnly(file);
    }

    private static void assertAccountsKept(SqliteDatabase db) {
        final AccountStore store = new SqliteAccountStore(db);
        assertThat(store.userByName("admin")).get().satisfies(u -> {
            assertThat(u.id()).isEqualTo("usr_1");
            assertThat(u.role()).isEqualTo(Role.ROLE_ADMIN);
        });
        assertThat(store.keys("default", null, 0, "", 10)).extracting(AccountStore.KeyRow::id).containsExactly("k1");
    }

    @SafeVarargs
    private static Path legacy(List<String>... versions) throws Exception {
        final Path file = TestHomes.create("accounts-legacy").resolve("accounts.db");
        try (Connection connection = DriverManager.getConnection("jdbc:sqlite:" + file);
             Statement statement = connection.createStatement()) {
            for (List<String> version : versions) {
                for (String sql : version) {
                    statement.execute(sql);
                }
            }
        }
        return file;
    }

    private static void assertAppendOnly(Path file) throws Exception {
        try (Connection connection = DriverManager.getConnection("jdbc:sqlite:" + file);
             Statement statement = connection.createStatement()) {
            assertThatThrownBy(() -> statement.execute("DELETE FROM audit_events")).hasMessageContaining("append-only");
            assertThatThrownBy(() -> statement.execute("UPDATE audit_events SET success = 0"))
                    .hasMessageContaining("append-only");
        }
    }
}
