package ai.sonia.gateway.domain;

import java.util.List;
import java.util.Optional;

import ai.sonia.common.v1.Role;

/**
 * Tenants, users, login sessions with their refresh tokens, and API keys. Secrets are never stored: passwords
 * as bcrypt hashes, refresh tokens and API key secrets as SHA-256 hashes. Each method is one atomic step, so
 * a check and the change it guards (the last admin, a refresh token's single use) cannot interleave with
 * another writer's.
 */
public interface AccountStore {

    /**
     * A user as stored; {@code mustChangePassword} while its password is one Sonia generated (the first admin's)
     * and the user has not chosen another.
     */
    record UserRow(String id, String tenant, String username, String displayName, String passwordHash,
                   Role role, long createMs, boolean disabled, boolean mustChangePassword) {}

    /** An API key as stored. */
    record KeyRow(String id, String tenant, String owner, String name, Role role, String secretHash,
                  long createMs, long revokedMs) {}

    /** A refresh token as stored, with its session's user and revocation. */
    record RefreshRow(String hash, String sessionId, String userId, long expireMs, long usedMs,
                      long sessionRevokedMs) {}

    // Users

    long countUsers();

    /**
     * Inserts a user (and its tenant when new); ALREADY_EXISTS ({@code DomainException.alreadyExists}) when
     * its username (compared without case) is taken, in any tenant.
     */
    void insertUser(UserRow user);

    /** The user of a username, compared without case. */
    Optional<UserRow> userByName(String username);

    Optional<UserRow> user(String id);

    /** A user of {@code tenant}; empty for a user of another tenant, as if it did not exist. */
    Optional<UserRow> user(String tenant, String id);

    /** Up to {@code limit} users of a tenant by username, after {@code afterUsername} ("" for the first). */
    List<UserRow> users(String tenant, String afterUsername, int limit);

    void setDisplayName(String id, String displayName);

    /** Sets the password the user chose: no change is required any more. */
    void setPasswordHash(String id, String hash);

    /**
     * Sets a user's role and disabled flag; false (nothing changed) when it would leave the user's tenant
     * without an enabled admin.
     */
    boolean setRoleAndDisabled(UserRow user, Role role, boolean disabled);

    /** Deletes a user and revokes its API keys; false when it is its tenant's last enabled admin. */
    boolean deleteUser(UserRow user, long nowMs);

    // Sessions and refresh tokens

    /** Starts a login session with its first refresh token. */
    void insertSession(String sessionId, String userId, String refreshHash, long nowMs, long refreshExpireMs);

    Optional<RefreshRow> refreshToken(String hash);

    /** Uses a refresh token once, replacing it by the next; false when it was already used. */
    boolean rotate(String oldHash, String sessionId, String newHash, long nowMs, long expireMs);

    /** Revokes a session; true when it was live. */
    boolean revokeSession(String sessionId, long nowMs);

    /** Revokes every live session of a user but {@code keep}; returns the ids revoked. */
    List<String> revokeSessionsOf(String userId, String keep, long nowMs);

    // API keys

    void insertKey(KeyRow key);

    Optional<KeyRow> key(String id);

    /**
     * Up to {@code limit} live keys of a tenant, of one owner unless {@code owner} is null, newest first
     * (by creation time, then id), after the key {@code (afterCreateMs, afterId)}; from the newest when
     * {@code afterId} is empty.
     */
    List<KeyRow> keys(String tenant, String owner, long afterCreateMs, String afterId, int limit);

    /** Revokes a key; true when it was live. */
    boolean revokeKey(String id, long nowMs);

    /** Replaces a live key's secret hash; false when the key is unknown or revoked. */
    boolean setKeySecret(String id, String secretHash);

    // Request ids of creates

    /**
     * What the create {@code method} with {@code requestId} of {@code principal} made (an id), when it was
     * made at or after {@code notBeforeMs}.
     */
    Optional<String> requestResult(String principal, String method, String requestId, long notBeforeMs);

    /** Remembers what a create made; forgets what was remembered before {@code forgetBeforeMs}. */
    void rememberRequest(String principal, String method, String requestId, String resultId, long nowMs,
                         long forgetBeforeMs);
}
