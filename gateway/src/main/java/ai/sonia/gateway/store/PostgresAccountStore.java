package ai.sonia.gateway.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import com.zaxxer.hikari.HikariDataSource;

import ai.sonia.common.v1.Role;
import ai.sonia.gateway.domain.AccountStore;
import ai.sonia.runtime.auth.Roles;
import ai.sonia.runtime.errors.DomainException;
import ai.sonia.runtime.store.Postgres;

/**
 * The {@link AccountStore} on PostgreSQL, shared by every gateway replica. Each method is one transaction; the
 * checks that guard a change across replicas (a tenant's last enabled admin) first lock the tenant's row
 * ({@code SELECT ... FOR UPDATE}), and a refresh token's single use is one conditional {@code UPDATE}, so two
 * replicas cannot both pass a check. Schema: the Flyway migrations of {@code db/postgresql/gateway/accounts}.
 */
public final class PostgresAccountStore implements AccountStore, AutoCloseable {

    /** The store's location (its SQLite sibling's), whose PostgreSQL SQL is under {@code db/postgresql/}. */
    static final String MIGRATIONS = "db/gateway/accounts";

    private final HikariDataSource pool;

    private PostgresAccountStore(HikariDataSource pool) {
        this.pool = pool;
    }

    /**
     * Connects to the settings' database and migrates the accounts' schema.
     *
     * @throws IllegalStateException when the database cannot be reached or migrated
     */
    public static PostgresAccountStore open(Postgres.Settings settings) {
        final HikariDataSource pool = Postgres.open(settings, "gateway-accounts");
        try {
            Postgres.migrate(pool, MIGRATIONS);
            return new PostgresAccountStore(pool);
        } catch (SQLException | RuntimeException e) {
            pool.close();
            throw new IllegalStateException("cannot open the accounts on " + settings + ": " + e.getMessage(), e);
        }
    }

    // Users

    @Override
    public long countUsers() {
        return inTransaction(tx -> tx.queryLong("SELECT COUNT(*) FROM users"));
    }

    @Override
    public void insertUser(UserRow user) {
        final boolean inserted = inTransaction(tx -> {
            tx.update("INSERT INTO tenants(id, create_ms) VALUES (?, ?) ON CONFLICT DO NOTHING", user.tenant(),
                      user.createMs());
            return tx.update("INSERT INTO users(id, tenant, username, display_name, password_hash, role, create_ms,"
                             + " disabled) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                             user.id(), user.tenant(), user.username(), user.displayName(), user.passwordHash(),
                             Roles.name(user.role()), user.createMs(), user.disabled() ? 1 : 0) == 1;
        });
        if (!inserted) {
            throw DomainException.alreadyExists("user", user.username());
        }
    }

    @Override
    public Optional<UserRow> userByName(String username) {
        return first(inTransaction(tx -> tx.users("SELECT * FROM users WHERE lower(username) = lower(?)", username)));
    }

    @Override
    public Optional<UserRow> user(String id) {
        return first(inTransaction(tx -> tx.users("SELECT * FROM users WHERE id = ?", id)));
    }

    @Override
    public Optional<UserRow> user(String tenant, String id) {
        return first(inTransaction(tx -> tx.users("SELECT * FROM users WHERE tenant = ? AND id = ?", tenant, id)));
    }

    @Override
    public List<UserRow> users(String tenant, String afterUsername, int limit) {
        return inTransaction(tx -> tx.users("SELECT * FROM users WHERE tenant = ? AND lower(username) > lower(?)"
                                            + " ORDER BY lower(username) LIMIT ?", tenant, afterUsername, limit));
    }

    @Override
    public void setDisplayName(String id, String displayName) {
        inTransaction(tx -> tx.update("UPDATE users SET display_name = ? WHERE id = ?", displayName, id));
    }

    @Override
    public void setPasswordHash(String id, String hash) {
        inTransaction(tx -> tx.update("UPDATE users SET password_hash = ? WHERE id = ?", hash, id));
    }

    @Override
    public boolean setRoleAndDisabled(UserRow user, Role role, boolean disabled) {
        final boolean staysAdmin = role == Role.ROLE_ADMIN && !disabled;
        return inTransaction(tx -> {
            if (!staysAdmin && tx.isLastAdmin(user)) {
                return false;
            }
            tx.update("UPDATE users SET role = ?, disabled = ? WHERE id = ?", Roles.name(role), disabled ? 1 : 0,
                      user.id());
            return true;
        });
    }

    @Override
    public boolean deleteUser(UserRow user, long nowMs) {
        return inTransaction(tx -> {
            if (tx.isLastAdmin(user)) {
                return false;
            }
            tx.update("UPDATE api_keys SET revoked_ms = ? WHERE owner = ? AND revoked_ms = 0", nowMs, user.id());
            tx.update("DELETE FROM users WHERE id = ?", user.id());
            return true;
        });
    }

    // Sessions and refresh tokens

    @Override
    public void insertSession(String sessionId, String userId, String refreshHash, long nowMs, long refreshExpireMs) {
        inTransaction(tx -> {
            tx.update("INSERT INTO sessions(id, user_id, create_ms) VALUES (?, ?, ?)", sessionId, userId, nowMs);
            return tx.update("INSERT INTO refresh_tokens(hash, session_id, create_ms, expire_ms) VALUES (?, ?, ?, ?)",
                             refreshHash, sessionId, nowMs, refreshExpireMs);
        });
    }

    @Override
    public Optional<RefreshRow> refreshToken(String hash) {
        return first(inTransaction(tx -> tx.query(
                rs -> new RefreshRow(rs.getString(1), rs.getString(2), rs.getString(3), rs.getLong(4), rs.getLong(5),
                                     rs.getLong(6)),
                "SELECT r.hash, r.session_id, s.user_id, r.expire_ms, r.used_ms, s.revoked_ms"
                + " FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id WHERE r.hash = ?", hash)));
    }

    @Override
    public boolean rotate(String oldHash, String sessionId, String newHash, long nowMs, long expireMs) {
        return inTransaction(tx -> {
            if (tx.update("UPDATE refresh_tokens SET used_ms = ? WHERE hash = ? AND used_ms = 0", nowMs, oldHash) != 1) {
                return false;
            }
            tx.update("INSERT INTO refresh_tokens(hash, session_id, create_ms, expire_ms) VALUES (?, ?, ?, ?)",
                      newHash, sessionId, nowMs, expireMs);
            return true;
        });
    }

    @Override
    public boolean revokeSession(String sessionId, long nowMs) {
        return inTransaction(tx -> tx.update("UPDATE sessions SET revoked_ms = ? WHERE id = ? AND revoked_ms = 0",
                                             nowMs, sessionId) == 1);
    }

    @Override
    public List<String> revokeSessionsOf(String userId, String keep, long nowMs) {
        return inTransaction(tx -> tx.query(rs -> rs.getString(1),
                                            "UPDATE sessions SET revoked_ms = ? WHERE user_id = ? AND revoked_ms = 0"
                                            + " AND id <> ? RETURNING id", nowMs, userId, keep));
    }

    // API keys

    @Override
    public void insertKey(KeyRow key) {
        inTransaction(tx -> tx.update("INSERT INTO api_keys(id, tenant, owner, name, role, secret_hash, create_ms)"
                                      + " VALUES (?, ?, ?, ?, ?, ?, ?)", key.id(), key.tenant(), key.owner(),
                                      key.name(), Roles.name(key.role()), key.secretHash(), key.createMs()));
    }

    @Override
    public Optional<KeyRow> key(String id) {
        return first(inTransaction(tx -> tx.keys("SELECT * FROM api_keys WHERE id = ?", id)));
    }

    @Override
    public List<KeyRow> keys(String tenant, String owner, long afterCreateMs, String afterId, int limit) {
        final KeysPage page = KeysPage.of(tenant, owner, afterCreateMs, afterId, limit);
        return inTransaction(tx -> tx.keys(page.sql(), page.args()));
    }

    @Override
    public boolean revokeKey(String id, long nowMs) {
        return inTransaction(tx -> tx.update("UPDATE api_keys SET revoked_ms = ? WHERE id = ? AND revoked_ms = 0",
                                             nowMs, id) == 1);
    }

    @Override
    public boolean setKeySecret(String id, String secretHash) {
        return inTransaction(tx -> tx.update("UPDATE api_keys SET secret_hash = ? WHERE id = ? AND revoked_ms = 0",
                                             secretHash, id) == 1);
    }

    @Override
    public Optional<String> requestResult(String principal, String method, String requestId, long notBeforeMs) {
        return first(inTransaction(tx -> tx.query(rs -> rs.getString(1),
                                                  "SELECT result_id FROM request_ids WHERE principal = ? AND method = ?"
                                                  + " AND request_id = ? AND create_ms >= ?",
                                                  principal, method, requestId, notBeforeMs)));
    }

    @Override
    public void rememberRequest(String principal, String method, String requestId, String resultId, long nowMs,
                                long forgetBeforeMs) {
        inTransaction(tx -> {
            tx.update("DELETE FROM request_ids WHERE create_ms < ?", forgetBeforeMs);
            return tx.update("INSERT INTO request_ids(principal, method, request_id, result_id, create_ms)"
                             + " VALUES (?, ?, ?, ?, ?) ON CONFLICT (principal, method, request_id) DO UPDATE"
                             + " SET result_id = EXCLUDED.result_id, create_ms = EXCLUDED.create_ms",
                             principal, method, requestId, resultId, nowMs);
        });
    }

    @Override
    public void close() {
        pool.close();
    }

    // Plumbing

    @FunctionalInterface
    private interface Work<T> {
        T run(Tx tx) throws SQLException;
    }

    @FunctionalInterface
    private interface Row<T> {
        T map(ResultSet rs) throws SQLException;
    }

    /** Runs {@code work} in one transaction, committed when it returns, rolled back when it throws. */
    private <T> T inTransaction(Work<T> work) {
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
    private static final class Tx {
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

        /** Locks the user's tenant (every replica's admin check on it waits), then counts its other admins. */
        boolean isLastAdmin(UserRow user) throws SQLException {
            if (user.role() != Role.ROLE_ADMIN || user.disabled()) {
                return false;
            }
            query(rs -> rs.getString(1), "SELECT id FROM tenants WHERE id = ? FOR UPDATE", user.tenant());
            return queryLong("SELECT COUNT(*) FROM users WHERE tenant = ? AND role = 'admin' AND disabled = 0"
                             + " AND id <> ?", user.tenant(), user.id()) == 0;
        }

        List<UserRow> users(String sql, Object... args) throws SQLException {
            return query(rs -> new UserRow(rs.getString("id"), rs.getString("tenant"), rs.getString("username"),
                                           rs.getString("display_name"), rs.getString("password_hash"),
                                           Roles.parse(rs.getString("role")), rs.getLong("create_ms"),
                                           rs.getInt("disabled") != 0), sql, args);
        }

        List<KeyRow> keys(String sql, Object... args) throws SQLException {
            return query(rs -> new KeyRow(rs.getString("id"), rs.getString("tenant"), rs.getString("owner"),
                                          rs.getString("name"), Roles.parse(rs.getString("role")),
                                          rs.getString("secret_hash"), rs.getLong("create_ms"),
                                          rs.getLong("revoked_ms")), sql, args);
        }

        private PreparedStatement prepare(String sql, Object... args) throws SQLException {
            final PreparedStatement ps = connection.prepareStatement(sql);
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            return ps;
        }
    }

    private static <T> Optional<T> first(List<T> rows) {
        return rows.isEmpty() ? Optional.empty() : Optional.of(rows.get(0));
    }
}
