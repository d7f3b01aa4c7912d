package ai.sonia.gateway.store;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;

import ai.sonia.common.v1.Role;
import ai.sonia.gateway.domain.AccountStore;
import ai.sonia.runtime.auth.Roles;
import ai.sonia.runtime.errors.DomainException;
import ai.sonia.runtime.store.PostgresPool;
import ai.sonia.runtime.store.Sql;

/**
 * The {@link AccountStore} on PostgreSQL, shared by every gateway replica. Each method is one transaction; the
 * checks that guard a change across replicas (a tenant's last enabled admin) first lock the tenant's row
 * ({@code SELECT ... FOR UPDATE}), and a refresh token's single use is one conditional {@code UPDATE}, so two
 * replicas cannot both pass a check. Its database: {@link PostgresDatabase}.
 */
public final class PostgresAccountStore implements AccountStore {

    private final PostgresPool db;

    public PostgresAccountStore(PostgresPool db) {
        this.db = db;
    }

    // Users

    @Override
    public long countUsers() {
        return db.inTransaction(c -> Sql.queryLong(c, "SELECT COUNT(*) FROM users"));
    }

    @Override
    public void insertUser(UserRow user) {
        final boolean inserted = db.inTransaction(c -> {
            Sql.update(c, "INSERT INTO tenants(id, create_ms) VALUES (?, ?) ON CONFLICT DO NOTHING", user.tenant(),
                      user.createMs());
            return Sql.update(c, "INSERT INTO " + UserColumns.INSERT + " ON CONFLICT DO NOTHING",
                             UserColumns.values(user)) == 1;
        });
        if (!inserted) {
            throw DomainException.alreadyExists("user", user.username());
        }
    }

    @Override
    public Optional<UserRow> userByName(String username) {
        return first(db.inTransaction(c -> users(c, "SELECT * FROM users WHERE lower(username) = lower(?)", username)));
    }

    @Override
    public Optional<UserRow> user(String id) {
        return first(db.inTransaction(c -> users(c, "SELECT * FROM users WHERE id = ?", id)));
    }

    @Override
    public Optional<UserRow> user(String tenant, String id) {
        return first(db.inTransaction(c -> users(c, "SELECT * FROM users WHERE tenant = ? AND id = ?", tenant, id)));
    }

    @Override
    public List<UserRow> users(String tenant, String afterUsername, int limit) {
        return db.inTransaction(c -> users(c, "SELECT * FROM users WHERE tenant = ? AND lower(username) > lower(?)"
                                            + " ORDER BY lower(username) LIMIT ?", tenant, afterUsername, limit));
    }

    @Override
    public void setDisplayName(String id, String displayName) {
        db.inTransaction(c -> Sql.update(c, "UPDATE users SET display_name = ? WHERE id = ?", displayName, id));
    }

    @Override
    public void setPasswordHash(String id, String hash) {
        db.inTransaction(c -> Sql.update(c, "UPDATE users SET password_hash = ?, must_change_password = 0 WHERE id = ?", hash, id));
    }

    @Override
    public boolean setRoleAndDisabled(UserRow user, Role role, boolean disabled) {
        final boolean staysAdmin = role == Role.ROLE_ADMIN && !disabled;
        return db.inTransaction(c -> {
            if (!staysAdmin && isLastAdmin(c, user)) {
                return false;
            }
            Sql.update(c, "UPDATE users SET role = ?, disabled = ? WHERE id = ?", Roles.name(role), disabled ? 1 : 0,
                      user.id());
            return true;
        });
    }

    @Override
    public boolean deleteUser(UserRow user, long nowMs) {
        return db.inTransaction(c -> {
            if (isLastAdmin(c, user)) {
                return false;
            }
            Sql.update(c, "UPDATE api_keys SET revoked_ms = ? WHERE owner = ? AND revoked_ms = 0", nowMs, user.id());
            Sql.update(c, "DELETE FROM users WHERE id = ?", user.id());
            return true;
        });
    }

    // Sessions and refresh tokens

    @Override
    public void insertSession(String sessionId, String userId, String refreshHash, long nowMs, long refreshExpireMs) {
        db.inTransaction(c -> {
            Sql.update(c, "INSERT INTO sessions(id, user_id, create_ms) VALUES (?, ?, ?)", sessionId, userId, nowMs);
            return Sql.update(c, "INSERT INTO refresh_tokens(hash, session_id, create_ms, expire_ms) VALUES (?, ?, ?, ?)",
                             refreshHash, sessionId, nowMs, refreshExpireMs);
        });
    }

    @Override
    public Optional<RefreshRow> refreshToken(String hash) {
        return first(db.inTransaction(c -> Sql.query(c,
                rs -> new RefreshRow(rs.getString(1), rs.getString(2), rs.getString(3), rs.getLong(4), rs.getLong(5),
                                     rs.getLong(6)),
                "SELECT r.hash, r.session_id, s.user_id, r.expire_ms, r.used_ms, s.revoked_ms"
                + " FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id WHERE r.hash = ?", hash)));
    }

    @Override
    public boolean rotate(String oldHash, String sessionId, String newHash, long nowMs, long expireMs) {
        return db.inTransaction(c -> {
            if (Sql.update(c, "UPDATE refresh_tokens SET used_ms = ? WHERE hash = ? AND used_ms = 0", nowMs, oldHash) != 1) {
                return false;
            }
            Sql.update(c, "INSERT INTO refresh_tokens(hash, session_id, create_ms, expire_ms) VALUES (?, ?, ?, ?)",
                      newHash, sessionId, nowMs, expireMs);
            return true;
        });
    }

    @Override
    public boolean revokeSession(String sessionId, long nowMs) {
        return db.inTransaction(c -> Sql.update(c, "UPDATE sessions SET revoked_ms = ? WHERE id = ? AND revoked_ms = 0",
                                             nowMs, sessionId) == 1);
    }

    @Override
    public List<String> revokeSessionsOf(String userId, String keep, long nowMs) {
        return db.inTransaction(c -> Sql.query(c, rs -> rs.getString(1),
                                            "UPDATE sessions SET revoked_ms = ? WHERE user_id = ? AND revoked_ms = 0"
                                            + " AND id <> ? RETURNING id", nowMs, userId, keep));
    }

    // API keys

    @Override
    public void insertKey(KeyRow key) {
        db.inTransaction(c -> Sql.update(c, "INSERT INTO api_keys(id, tenant, owner, name, role, secret_hash, create_ms)"
                                      + " VALUES (?, ?, ?, ?, ?, ?, ?)", key.id(), key.tenant(), key.owner(),
                                      key.name(), Roles.name(key.role()), key.secretHash(), key.createMs()));
    }

    @Override
    public Optional<KeyRow> key(String id) {
        return first(db.inTransaction(c -> keys(c, "SELECT * FROM api_keys WHERE id = ?", id)));
    }

    @Override
    public List<KeyRow> keys(String tenant, String owner, long afterCreateMs, String afterId, int limit) {
        final KeysPage page = KeysPage.of(tenant, owner, afterCreateMs, afterId, limit);
        return db.inTransaction(c -> keys(c, page.sql(), page.args()));
    }

    @Override
    public boolean revokeKey(String id, long nowMs) {
        return db.inTransaction(c -> Sql.update(c, "UPDATE api_keys SET revoked_ms = ? WHERE id = ? AND revoked_ms = 0",
                                             nowMs, id) == 1);
    }

    @Override
    public boolean setKeySecret(String id, String secretHash) {
        return db.inTransaction(c -> Sql.update(c, "UPDATE api_keys SET secret_hash = ? WHERE id = ? AND revoked_ms = 0",
                                             secretHash, id) == 1);
    }

    @Override
    public Optional<String> requestResult(String principal, String method, String requestId, long notBeforeMs) {
        return first(db.inTransaction(c -> Sql.query(c, rs -> rs.getString(1),
                                                  "SELECT result_id FROM request_ids WHERE principal = ? AND method = ?"
                                                  + " AND request_id = ? AND create_ms >= ?",
                                                  principal, method, requestId, notBeforeMs)));
    }

    @Override
    public void rememberRequest(String principal, String method, String requestId, String resultId, long nowMs,
                                long forgetBeforeMs) {
        db.inTransaction(c -> {
            Sql.update(c, "DELETE FROM request_ids WHERE create_ms < ?", forgetBeforeMs);
            return Sql.update(c, "INSERT INTO request_ids(principal, method, request_id, result_id, create_ms)"
                             + " VALUES (?, ?, ?, ?, ?) ON CONFLICT (principal, method, request_id) DO UPDATE"
                             + " SET result_id = EXCLUDED.result_id, create_ms = EXCLUDED.create_ms",
                             principal, method, requestId, resultId, nowMs);
        });
    }

    // Plumbing

    /** Locks the user's tenant (every replica's admin check on it waits), then counts its other admins. */
    private static boolean isLastAdmin(Connection c, UserRow user) throws SQLException {
        if (user.role() != Role.ROLE_ADMIN || user.disabled()) {
            return false;
        }
        Sql.query(c, rs -> rs.getString(1), "SELECT id FROM tenants WHERE id = ? FOR UPDATE", user.tenant());
        return Sql.queryLong(c, "SELECT COUNT(*) FROM users WHERE tenant = ? AND role = 'admin' AND disabled = 0"
                         + " AND id <> ?", user.tenant(), user.id()) == 0;
    }

    private static List<UserRow> users(Connection c, String sql, Object... args) throws SQLException {
        return Sql.query(c, UserColumns::read, sql, args);
    }

    private static List<KeyRow> keys(Connection c, String sql, Object... args) throws SQLException {
        return Sql.query(c, rs -> new KeyRow(rs.getString("id"), rs.getString("tenant"), rs.getString("owner"),
                                      rs.getString("name"), Roles.parse(rs.getString("role")),
                                      rs.getString("secret_hash"), rs.getLong("create_ms"),
                                      rs.getLong("revoked_ms")), sql, args);
    }

    private static <T> Optional<T> first(List<T> rows) {
        return rows.isEmpty() ? Optional.empty() : Optional.of(rows.get(0));
    }
}
