package ai.sonia.gateway.store;

import java.util.List;
import java.util.Optional;

import ai.sonia.common.v1.Role;
import ai.sonia.gateway.domain.AccountStore;
import ai.sonia.runtime.auth.Roles;
import ai.sonia.runtime.errors.DomainException;

/**
 * The {@link AccountStore} in SQLite (WAL) at {@code dataDir("gateway")/accounts.db}. One connection; every
 * method is one synchronized step, so checks and the changes they guard cannot interleave.
 */
public final class SqliteAccountStore implements AccountStore {

    private final SqliteDatabase db;

    public SqliteAccountStore(SqliteDatabase db) {
        this.db = db;
    }

    // Users

    @Override
    public synchronized long countUsers() {
        return db.queryLong("SELECT COUNT(*) FROM users");
    }

    @Override
    public synchronized void insertUser(UserRow user) {
        db.update("INSERT OR IGNORE INTO tenants(id, create_ms) VALUES (?, ?)", user.tenant(), user.createMs());
        final boolean inserted = db.update("INSERT OR IGNORE INTO " + UserColumns.INSERT, UserColumns.values(user)) == 1;
        if (!inserted) {
            throw DomainException.alreadyExists("user", user.username());
        }
    }

    @Override
    public synchronized Optional<UserRow> userByName(String username) {
        return first(queryUsers("SELECT * FROM users WHERE username = ?", username));
    }

    @Override
    public synchronized Optional<UserRow> user(String id) {
        return first(queryUsers("SELECT * FROM users WHERE id = ?", id));
    }

    @Override
    public synchronized Optional<UserRow> user(String tenant, String id) {
        return first(queryUsers("SELECT * FROM users WHERE tenant = ? AND id = ?", tenant, id));
    }

    @Override
    public synchronized List<UserRow> users(String tenant, String afterUsername, int limit) {
        return queryUsers("SELECT * FROM users WHERE tenant = ? AND username > ? ORDER BY username LIMIT ?",
                     tenant, afterUsername, limit);
    }

    @Override
    public synchronized void setDisplayName(String id, String displayName) {
        db.update("UPDATE users SET display_name = ? WHERE id = ?", displayName, id);
    }

    @Override
    public synchronized void setPasswordHash(String id, String hash) {
        db.update("UPDATE users SET password_hash = ?, must_change_password = 0 WHERE id = ?", hash, id);
    }

    @Override
    public synchronized boolean setRoleAndDisabled(UserRow user, Role role, boolean disabled) {
        final boolean staysAdmin = role == Role.ROLE_ADMIN && !disabled;
        if (!staysAdmin && isLastAdmin(user)) {
            return false;
        }
        db.update("UPDATE users SET role = ?, disabled = ? WHERE id = ?", Roles.name(role), disabled ? 1 : 0, user.id());
        return true;
    }

    @Override
    public synchronized boolean deleteUser(UserRow user, long nowMs) {
        if (isLastAdmin(user)) {
            return false;
        }
        db.update("UPDATE api_keys SET revoked_ms = ? WHERE owner = ? AND revoked_ms = 0", nowMs, user.id());
        db.update("DELETE FROM users WHERE id = ?", user.id());
        return true;
    }

    private boolean isLastAdmin(UserRow user) {
        return user.role() == Role.ROLE_ADMIN && !user.disabled()
               && db.queryLong("SELECT COUNT(*) FROM users WHERE tenant = ? AND role = 'admin' AND disabled = 0 AND id <> ?",
                            user.tenant(), user.id()) == 0;
    }

    // Sessions and refresh tokens

    @Override
    public synchronized void insertSession(String sessionId, String userId, String refreshHash, long nowMs,
                                           long refreshExpireMs) {
        db.update("INSERT INTO sessions(id, user_id, create_ms) VALUES (?, ?, ?)", sessionId, userId, nowMs);
        db.update("INSERT INTO refresh_tokens(hash, session_id, create_ms, expire_ms) VALUES (?, ?, ?, ?)",
               refreshHash, sessionId, nowMs, refreshExpireMs);
    }

    @Override
    public synchronized Optional<RefreshRow> refreshToken(String hash) {
        return first(db.query(rs -> new RefreshRow(rs.getString(1), rs.getString(2), rs.getString(3), rs.getLong(4),
                                                   rs.getLong(5), rs.getLong(6)),
                              "SELECT r.hash, r.session_id, s.user_id, r.expire_ms, r.used_ms, s.revoked_ms "
                              + "FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id WHERE r.hash = ?", hash));
    }

    @Override
    public synchronized boolean rotate(String oldHash, String sessionId, String newHash, long nowMs, long expireMs) {
        if (db.update("UPDATE refresh_tokens SET used_ms = ? WHERE hash = ? AND used_ms = 0", nowMs, oldHash) != 1) {
            return false;
        }
        db.update("INSERT INTO refresh_tokens(hash, session_id, create_ms, expire_ms) VALUES (?, ?, ?, ?)",
               newHash, sessionId, nowMs, expireMs);
        return true;
    }

    @Override
    public synchronized boolean revokeSession(String sessionId, long nowMs) {
        return db.update("UPDATE sessions SET revoked_ms = ? WHERE id = ? AND revoked_ms = 0", nowMs, sessionId) == 1;
    }

    @Override
    public synchronized List<String> revokeSessionsOf(String userId, String keep, long nowMs) {
        final List<String> ids = db.query(rs -> rs.getString(1), "SELECT id FROM sessions WHERE user_id = ? AND revoked_ms = 0 AND id <> ?",
                                         userId, keep);
        db.update("UPDATE sessions SET revoked_ms = ? WHERE user_id = ? AND revoked_ms = 0 AND id <> ?",
               nowMs, userId, keep);
        return ids;
    }

    // API keys

    @Override
    public synchronized void insertKey(KeyRow key) {
        db.update("INSERT INTO api_keys(id, tenant, owner, name, role, secret_hash, create_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
               key.id(), key.tenant(), key.owner(), key.name(), Roles.name(key.role()), key.secretHash(),
               key.createMs());
    }

    @Override
    public synchronized Optional<KeyRow> key(String id) {
        return first(queryKeys("SELECT * FROM api_keys WHERE id = ?", id));
    }

    @Override
    public synchronized List<KeyRow> keys(String tenant, String owner, long afterCreateMs, String afterId, int limit) {
        final KeysPage page = KeysPage.of(tenant, owner, afterCreateMs, afterId, limit);
        return queryKeys(page.sql(), page.args());
    }

    @Override
    public synchronized boolean revokeKey(String id, long nowMs) {
        return db.update("UPDATE api_keys SET revoked_ms = ? WHERE id = ? AND revoked_ms = 0", nowMs, id) == 1;
    }

    @Override
    public synchronized boolean setKeySecret(String id, String secretHash) {
        return db.update("UPDATE api_keys SET secret_hash = ? WHERE id = ? AND revoked_ms = 0", secretHash, id) == 1;
    }

    @Override
    public synchronized Optional<String> requestResult(String principal, String method, String requestId,
                                                       long notBeforeMs) {
        return first(db.query(rs -> rs.getString(1), "SELECT result_id FROM request_ids WHERE principal = ? AND "
                                                     + "method = ? AND request_id = ? AND create_ms >= ?",
                              principal, method, requestId, notBeforeMs));
    }

    @Override
    public synchronized void rememberRequest(String principal, String method, String requestId, String resultId,
                                             long nowMs, long forgetBeforeMs) {
        db.update("DELETE FROM request_ids WHERE create_ms < ?", forgetBeforeMs);
        db.update("INSERT OR REPLACE INTO request_ids(principal, method, request_id, result_id, create_ms) "
                  + "VALUES (?, ?, ?, ?, ?)", principal, method, requestId, resultId, nowMs);
    }

    // Plumbing

    private List<UserRow> queryUsers(String sql, Object... args) {
        return db.query(UserColumns::read, sql, args);
    }

    private List<KeyRow> queryKeys(String sql, Object... args) {
        return db.query(rs -> new KeyRow(rs.getString("id"), rs.getString("tenant"), rs.getString("owner"),
                                         rs.getString("name"), Roles.parse(rs.getString("role")),
                                         rs.getString("secret_hash"), rs.getLong("create_ms"), rs.getLong("revoked_ms")),
                        sql, args);
    }

    private static <T> Optional<T> first(List<T> rows) {
        return rows.isEmpty() ? Optional.empty() : Optional.of(rows.get(0));
    }
}
