package ai.sonia.gateway.accounts;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import ai.sonia.common.v1.Role;
import ai.sonia.runtime.auth.Roles;
import ai.sonia.runtime.store.Sqlite;
import ai.sonia.runtime.store.StoreHealth;

/**
 * Tenants, users, login sessions, refresh tokens and API keys in SQLite (WAL) at
 * {@code dataDir("gateway")/accounts.db}. Secrets are never stored: passwords as bcrypt hashes, refresh
 * tokens and API key secrets as SHA-256 hashes. One connection; every method is one synchronized step, so
 * checks and the changes they guard (the last admin, a refresh token's single use) cannot interleave.
 */
public final class AccountStore implements AutoCloseable {

    /** A user as stored. */
    public record UserRow(String id, String tenant, String username, String displayName, String passwordHash,
                          Role role, long createMs, boolean disabled) {}

    /** An API key as stored. */
    public record KeyRow(String id, String tenant, String owner, String name, Role role, String secretHash,
                         long createMs, long revokedMs) {}

    /** A security event as stored; {@code seq} orders them. */
    public record AuditRow(long seq, String tenant, long timeMs, int kind, boolean success, String actor,
                           String userId, String username, String address, String detail) {}

    /** A refresh token as stored, with its session's user and revocation. */
    public record RefreshRow(String hash, String sessionId, String userId, long expireMs, long usedMs,
                             long sessionRevokedMs) {}

    private final Connection connection;
    private final StoreHealth health;

    public AccountStore(Path file) {
        try {
            connection = Sqlite.open(file, "secure_delete = ON");
            AccountSchema.apply(connection);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot open accounts database " + file + ": " + e.getMessage(), e);
        }
        health = new StoreHealth(file);
    }

    // Users

    public synchronized long countUsers() {
        return queryLong("SELECT COUNT(*) FROM users");
    }

    /** Inserts a user (and its tenant when new); false when the username is taken. */
    public synchronized boolean insertUser(UserRow user) {
        update("INSERT OR IGNORE INTO tenants(id, create_ms) VALUES (?, ?)", user.tenant(), user.createMs());
        return update("INSERT OR IGNORE INTO users(id, tenant, username, display_name, password_hash, role, "
                          + "create_ms, disabled) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                          user.id(), user.tenant(), user.username(), user.displayName(), user.passwordHash(),
                          Roles.name(user.role()), user.createMs(), user.disabled() ? 1 : 0) == 1;
    }

    public synchronized Optional<UserRow> userByName(String username) {
        return first(queryUsers("SELECT * FROM users WHERE username = ?", username));
    }

    public synchronized Optional<UserRow> user(String id) {
        return first(queryUsers("SELECT * FROM users WHERE id = ?", id));
    }

    /** A user of {@code tenant}; empty for a user of another tenant, as if it did not exist. */
    public synchronized Optional<UserRow> user(String tenant, String id) {
        return first(queryUsers("SELECT * FROM users WHERE tenant = ? AND id = ?", tenant, id));
    }

    /** Users of a tenant by username, after {@code afterUsername}. */
    public synchronized List<UserRow> users(String tenant, String afterUsername, int limit) {
        return queryUsers("SELECT * FROM users WHERE tenant = ? AND username > ? ORDER BY username LIMIT ?",
                     tenant, afterUsername, limit);
    }

    public synchronized void setDisplayName(String id, String displayName) {
        update("UPDATE users SET display_name = ? WHERE id = ?", displayName, id);
    }

    public synchronized void setPasswordHash(String id, String hash) {
        update("UPDATE users SET password_hash = ? WHERE id = ?", hash, id);
    }

    /**
     * Sets a user's role and disabled flag; false (nothing changed) when it would leave the user's tenant
     * without an enabled admin.
     */
    public synchronized boolean setRoleAndDisabled(UserRow user, Role role, boolean disabled) {
        final boolean staysAdmin = role == Role.ROLE_ADMIN && !disabled;
        if (!staysAdmin && isLastAdmin(user)) {
            return false;
        }
        update("UPDATE users SET role = ?, disabled = ? WHERE id = ?", Roles.name(role), disabled ? 1 : 0, user.id());
        return true;
    }

    /** Deletes a user and its API keys; false when it is its tenant's last enabled admin. */
    public synchronized boolean deleteUser(UserRow user, long nowMs) {
        if (isLastAdmin(user)) {
            return false;
        }
        update("UPDATE api_keys SET revoked_ms = ? WHERE owner = ? AND revoked_ms = 0", nowMs, user.id());
        update("DELETE FROM users WHERE id = ?", user.id());
        return true;
    }

    private boolean isLastAdmin(UserRow user) {
        return user.role() == Role.ROLE_ADMIN && !user.disabled()
               && queryLong("SELECT COUNT(*) FROM users WHERE tenant = ? AND role = 'admin' AND disabled = 0 AND id <> ?",
                            user.tenant(), user.id()) == 0;
    }

    // Sessions and refresh tokens

    /** Starts a login session with its first refresh token. */
    public synchronized void insertSession(String sessionId, String userId, String refreshHash, long nowMs,
                                           long refreshExpireMs) {
        update("INSERT INTO sessions(id, user_id, create_ms) VALUES (?, ?, ?)", sessionId, userId, nowMs);
        update("INSERT INTO refresh_tokens(hash, session_id, create_ms, expire_ms) VALUES (?, ?, ?, ?)",
               refreshHash, sessionId, nowMs, refreshExpireMs);
    }

    public synchronized Optional<RefreshRow> refreshToken(String hash) {
        try (PreparedStatement ps = prepare(
                "SELECT r.hash, r.session_id, s.user_id, r.expire_ms, r.used_ms, s.revoked_ms FROM refresh_tokens r "
                + "JOIN sessions s ON s.id = r.session_id WHERE r.hash = ?", hash);
             ResultSet rs = ps.executeQuery()) {
            return rs.next() ? Optional.of(new RefreshRow(rs.getString(1), rs.getString(2), rs.getString(3),
                                                          rs.getLong(4), rs.getLong(5), rs.getLong(6)))
                             : Optional.empty();
        } catch (SQLException e) {
            throw health.unavailableOr(e, new IllegalStateException("cannot read a refresh token", e));
        }
    }

    /** Uses a refresh token once, replacing it by the next; false when it was already used. */
    public synchronized boolean rotate(String oldHash, String sessionId, String newHash, long nowMs, long expireMs) {
        if (update("UPDATE refresh_tokens SET used_ms = ? WHERE hash = ? AND used_ms = 0", nowMs, oldHash) != 1) {
            return false;
        }
        update("INSERT INTO refresh_tokens(hash, session_id, create_ms, expire_ms) VALUES (?, ?, ?, ?)",
               newHash, sessionId, nowMs, expireMs);
        return true;
    }

    /** Revokes a session; true when it was live. */
    public synchronized boolean revokeSession(String sessionId, long nowMs) {
        return update("UPDATE sessions SET revoked_ms = ? WHERE id = ? AND revoked_ms = 0", nowMs, sessionId) == 1;
    }

    /** Revokes every live session of a user but {@code keep}; returns the ids revoked. */
    public synchronized List<String> revokeSessionsOf(String userId, String keep, long nowMs) {
        final List<String> ids = strings("SELECT id FROM sessions WHERE user_id = ? AND revoked_ms = 0 AND id <> ?",
                                         userId, keep);
        update("UPDATE sessions SET revoked_ms = ? WHERE user_id = ? AND revoked_ms = 0 AND id <> ?",
               nowMs, userId, keep);
        return ids;
    }

    // API keys

    public synchronized void insertKey(KeyRow key) {
        update("INSERT INTO api_keys(id, tenant, owner, name, role, secret_hash, create_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
               key.id(), key.tenant(), key.owner(), key.name(), Roles.name(key.role()), key.secretHash(),
               key.createMs());
    }

    public synchronized Optional<KeyRow> key(String id) {
        return first(queryKeys("SELECT * FROM api_keys WHERE id = ?", id));
    }

    /** Live keys of a tenant, of one owner unless {@code owner} is null, newest first. */
    public synchronized List<KeyRow> keys(String tenant, String owner) {
        return owner == null
               ? queryKeys("SELECT * FROM api_keys WHERE tenant = ? AND revoked_ms = 0 ORDER BY create_ms DESC, id", tenant)
               : queryKeys("SELECT * FROM api_keys WHERE tenant = ? AND owner = ? AND revoked_ms = 0 "
                      + "ORDER BY create_ms DESC, id", tenant, owner);
    }

    /** Revokes a key; true when it was live. */
    public synchronized boolean revokeKey(String id, long nowMs) {
        return update("UPDATE api_keys SET revoked_ms = ? WHERE id = ? AND revoked_ms = 0", nowMs, id) == 1;
    }

    @Override
    public synchronized void close() {
        try {
            connection.close();
        } catch (SQLException ignored) {
            // closing at shutdown: nothing left to do
        }
    }

    // Audit

    /** Appends a security event. */
    public synchronized void insertAudit(AuditRow row) {
        update("INSERT INTO audit_events(tenant, time_ms, kind, success, actor, user_id, username, address, detail) "
               + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", row.tenant(), row.timeMs(), row.kind(), row.success() ? 1 : 0,
               row.actor(), row.userId(), row.username(), row.address(), row.detail());
    }

    /** Up to {@code limit} events of a tenant older than {@code beforeSeq}, newest first. */
    public synchronized List<AuditRow> audit(String tenant, long beforeSeq, int limit) {
        final List<AuditRow> rows = new ArrayList<>();
        try (PreparedStatement ps = prepare("SELECT * FROM audit_events WHERE tenant = ? AND seq < ? "
                                            + "ORDER BY seq DESC LIMIT ?", tenant, beforeSeq, limit);
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                rows.add(new AuditRow(rs.getLong("seq"), rs.getString("tenant"), rs.getLong("time_ms"),
                                      rs.getInt("kind"), rs.getInt("success") != 0, rs.getString("actor"),
                                      rs.getString("user_id"), rs.getString("username"), rs.getString("address"),
                                      rs.getString("detail")));
            }
            return rows;
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read the audit", e);
        }
    }

    // Plumbing

    private List<UserRow> queryUsers(String sql, Object... args) {
        final List<UserRow> rows = new ArrayList<>();
        try (PreparedStatement ps = prepare(sql, args); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                rows.add(new UserRow(rs.getString("id"), rs.getString("tenant"), rs.getString("username"),
                                     rs.getString("display_name"), rs.getString("password_hash"),
                                     Roles.parse(rs.getString("role")), rs.getLong("create_ms"),
                                     rs.getInt("disabled") != 0));
            }
            return rows;
        } catch (SQLException e) {
            throw health.unavailableOr(e, new IllegalStateException("cannot read users", e));
        }
    }

    private List<KeyRow> queryKeys(String sql, Object... args) {
        final List<KeyRow> rows = new ArrayList<>();
        try (PreparedStatement ps = prepare(sql, args); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                rows.add(new KeyRow(rs.getString("id"), rs.getString("tenant"), rs.getString("owner"),
                                    rs.getString("name"), Roles.parse(rs.getString("role")),
                                    rs.getString("secret_hash"), rs.getLong("create_ms"), rs.getLong("revoked_ms")));
            }
            return rows;
        } catch (SQLException e) {
            throw health.unavailableOr(e, new IllegalStateException("cannot read API keys", e));
        }
    }

    private List<String> strings(String sql, Object... args) {
        final List<String> rows = new ArrayList<>();
        try (PreparedStatement ps = prepare(sql, args); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                rows.add(rs.getString(1));
            }
            return rows;
        } catch (SQLException e) {
            throw health.unavailableOr(e, new IllegalStateException("cannot read accounts", e));
        }
    }

    private long queryLong(String sql, Object... args) {
        try (PreparedStatement ps = prepare(sql, args); ResultSet rs = ps.executeQuery()) {
            return rs.next() ? rs.getLong(1) : 0;
        } catch (SQLException e) {
            throw health.unavailableOr(e, new IllegalStateException("cannot read accounts", e));
        }
    }

    private int update(String sql, Object... args) {
        try (PreparedStatement ps = prepare(sql, args)) {
            return ps.executeUpdate();
        } catch (SQLException e) {
            throw health.unavailableOr(e, new IllegalStateException("cannot write accounts", e));
        }
    }

    private PreparedStatement prepare(String sql, Object... args) throws SQLException {
        final PreparedStatement ps = connection.prepareStatement(sql);
        for (int i = 0; i < args.length; i++) {
            ps.setObject(i + 1, args[i]);
        }
        return ps;
    }

    private static <T> Optional<T> first(List<T> rows) {
        return rows.isEmpty() ? Optional.empty() : Optional.of(rows.get(0));
    }
}
