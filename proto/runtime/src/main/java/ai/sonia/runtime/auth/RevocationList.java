package ai.sonia.runtime.auth;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.linecorp.armeria.common.annotation.Nullable;

import ai.sonia.common.v1.Role;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.cluster.SharedEngine;
import redis.clients.jedis.UnifiedJedis;

/**
 * The access tokens that must be refused before they expire, shared by every service of a machine through
 * one owner-only file, {@code $SONIA_HOME/secrets/revoked-sessions}. The gateway appends a line; each service
 * re-reads the file when it changed, looking at most every 200 ms, so a change reaches every service, not only
 * the gateway, within a fraction of a second. Two kinds of line:
 * <ul>
 *   <li>{@code <sid> <until>}: a logged-out session, or {@code key:<key id>} for a deleted API key, whose
 *       tokens are refused;</li>
 *   <li>{@code user:<tenant>/<user id> <until> <not before> <role>}: a user was disabled, deleted, demoted or
 *       promoted at {@code not before} (epoch ms). Every token derived from that user (its login sessions and
 *       its API keys' exchanged tokens) issued at or before that instant is refused, and any other token of
 *       the user acts with at most {@code role} ({@code admin}, {@code user}, or {@code none}: refused). The
 *       newest line of a user wins.</li>
 * </ul>
 * Entries live as long as a token of theirs could (their {@code until}); the file is compacted when it grows.
 *
 * <p>With {@code shared.engine: redis} the list is not a file but a Redis hash every replica of every service
 * shares ({@code sonia:revoked}: one field per id, its line's other fields as the value, newest wins, a plain
 * id's latest {@code until} kept) and a version counter that each write bumps. Each JVM checks the counter at
 * most every 200 ms and re-reads the hash when it moved, so a logout through one replica is refused by every
 * other within a fraction of a second.
 *
 * <p>The list is read by a background thread (one for every list of the JVM), never on a request's thread: a Redis
 * that hangs must not stall the event loops that check tokens. When it cannot be read (Redis unreachable or hanging,
 * the file unreadable), the last list read stays in force for {@value #STALE_AFTER_MS} ms; after that, tokens checked
 * against it are refused UNAVAILABLE ({@link RevocationListUnavailableException}) until it is read again: a service
 * that cannot know whether a token was revoked does not accept it (fail closed).
 */
public final class RevocationList implements Predicate<String> {

    /** The {@code sid} of tokens exchanged for an API key: {@code key:<key id>:<n>}; revoking the key ends all. */
    public static final String KEY_PREFIX = "key:";
    private static final String USER_PREFIX = "user:";
    private static final String NO_ROLE = "none";

    /** What changed for a user: tokens issued at or before {@code notBeforeMs} are refused; others act as {@code role}. */
    private record UserChange(long untilMs, long notBeforeMs, @Nullable Role role) {}

    private static final Logger logger = LoggerFactory.getLogger(RevocationList.class);
    private static final long CHECK_EVERY_MS = 200;
    /** How long the last list read stays in force while the list cannot be read. */
    static final long STALE_AFTER_MS = 3_000;
    // One daemon thread reads every list of the JVM (in production there is one); never a request's thread.
    private static final ScheduledExecutorService refresher = Executors.newSingleThreadScheduledExecutor(runnable -> {
        final Thread thread = new Thread(runnable, "revocation-list");
        thread.setDaemon(true);
        return thread;
    });
    private static final int COMPACT_ABOVE_LINES = 10_000;
    private static final Map<Object, RevocationList> lists = new ConcurrentHashMap<>();
    private static final String REDIS_HASH = "sonia:revoked";
    private static final String REDIS_VERSION = "sonia:revoked:version";
    /** Sets a field (a plain id keeps its latest {@code until}) and bumps the version. */
    private static final String REDIS_PUT = """
            local old = tonumber(redis.call('HGET', KEYS[1], ARGV[1]))
            if ARGV[3] ~= 'max' or old == nil or old < tonumber(ARGV[2]) then
              redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
            end
            return redis.call('INCR', KEYS[2])
            """;

    @Nullable
    private final Path file;
    @Nullable
    private final UnifiedJedis redis;
    private volatile String loadedRedisVersion;
    private volatile Map<String, Long> revoked = Map.of();
    private volatile Map<String, UserChange> users = Map.of();
    private volatile FileTime loadedVersion;
    // When the list was last read (or found up to date) from its file or Redis.
    private volatile long readNanos;
    private volatile boolean unreadable;

    private RevocationList(@Nullable Path file, @Nullable UnifiedJedis redis) {
        this.file = file;
        this.redis = redis;
        readNanos = System.nanoTime() - TimeUnit.MILLISECONDS.toNanos(STALE_AFTER_MS) - 1; // refused until read
        refresh(); // the first read before the first token is checked
        refresher.scheduleWithFixedDelay(this::refresh, CHECK_EVERY_MS, CHECK_EVERY_MS, TimeUnit.MILLISECONDS);
    }

    /**
     * The list of the stack {@code config} names: its Redis when {@code shared.engine} is {@code redis}, else its
     * file (one list per file or Redis client in a JVM).
     */
    public static RevocationList of(StackConfig config) {
        return SharedEngine.redis(config)
                           .map(client -> lists.computeIfAbsent(client, c -> onRedis(client)))
                           .orElseGet(() -> lists.computeIfAbsent(Secrets.directory(config).resolve("revoked-sessions"),
                                                                  f -> new RevocationList((Path) f, null)));
    }

    /** A list kept in {@code redis}, as one replica sees it ({@link #of} makes one per JVM). */
    public static RevocationList onRedis(UnifiedJedis redis) {
        return new RevocationList(null, Objects.requireNonNull(redis, "redis"));
    }

    /** Refuses the tokens of {@code id} (a login session id, or {@code key:<key id>}) until {@code untilMs}. */
    public synchronized void revoke(String id, long untilMs) {
        checkId(id);
        if (redis != null) {
            put(id, Long.toString(untilMs), true);
            return;
        }
        append(id + ' ' + untilMs);
    }

    /**
     * Records that user {@code userId} of {@code tenant} changed now ({@code notBeforeMs}): every token derived
     * from it issued until now is refused at every service, and later ones act with at most {@code role}
     * (null: the user was disabled or deleted, so none is accepted). Lasts until {@code untilMs}, the expiry of
     * the longest-lived token issued before.
     */
    public synchronized void changeUser(String tenant, String userId, @Nullable Role role, long notBeforeMs,
                                        long untilMs) {
        final String id = userKey(tenant, userId);
        checkId(id);
        final String change = untilMs + " " + notBeforeMs + ' ' + (role == null ? NO_ROLE : Roles.name(role));
        if (redis != null) {
            put(id, change, false);
            return;
        }
        append(id + ' ' + change);
    }

    private void put(String id, String value, boolean keepLatest) {
        redis.eval(REDIS_PUT, List.of(REDIS_HASH, REDIS_VERSION), List.of(id, value, keepLatest ? "max" : "set"));
        loadRedis();
        if (revoked.size() + users.size() > COMPACT_ABOVE_LINES / 2) {
            final List<String> expired = redis.hkeys(REDIS_HASH).stream()
                                              .filter(k -> !revoked.containsKey(k) && !users.containsKey(k)).toList();
            if (!expired.isEmpty()) {
                redis.hdel(REDIS_HASH, expired.toArray(String[]::new));
            }
        }
    }

    /**
     * The principal a verified access token may act as now: its own, or with the lower role its user has
     * since; {@link AuthenticationException} when its session, API key or user was revoked.
     */
    public Principal admit(AccessTokens.Verified token) {
        if (test(token.sessionId())) {
            throw new AuthenticationException("token revoked: its session was logged out or its API key deleted");
        }
        final Principal principal = token.principal();
        if (token.owner().isEmpty()) {
            return principal;
        }
        final UserChange change = users.get(userKey(principal.tenant(), token.owner()));
        if (change == null || change.untilMs() <= System.currentTimeMillis()) {
            return principal;
        }
        if (change.role() == null) {
            throw new AuthenticationException("token revoked: its user was disabled or deleted");
        }
        if (token.issuedAtMs() <= change.notBeforeMs()) {
            throw new AuthenticationException("token revoked: its user's role or status changed; sign in again");
        }
        if (rank(change.role()) < rank(principal.role())) {
            return new Principal(principal.kind(), principal.tenant(), principal.subject(), change.role(),
                                 principal.via());
        }
        return principal;
    }

    private static String userKey(String tenant, String userId) {
        return USER_PREFIX + tenant + '/' + userId;
    }

    private static int rank(Role role) {
        return role == Role.ROLE_ADMIN ? 2 : role == Role.ROLE_USER ? 1 : 0;
    }

    private static void checkId(String id) {
        if (id.isEmpty() || id.indexOf(' ') >= 0 || id.indexOf('\n') >= 0) {
            throw new IllegalArgumentException("not a session id: " + id);
        }
    }

    private void append(String line) {
        try {
            Secrets.createOwnerOnlyDirectory(file.getParent());
            if (!Files.exists(file)) {
                Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            }
            Files.writeString(file, line + '\n', StandardCharsets.US_ASCII, StandardOpenOption.APPEND);
            load();
            if (revoked.size() + users.size() > COMPACT_ABOVE_LINES || Files.size(file) > COMPACT_ABOVE_LINES * 64L) {
                compact();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot record a revocation in " + file, e);
        }
    }

    /** Whether tokens of login session {@code sid} are refused. */
    @Override
    public boolean test(String sid) {
        requireReadable();
        final Map<String, Long> current = revoked;
        if (current.isEmpty()) {
            return false;
        }
        final long now = System.currentTimeMillis();
        final Long until = current.get(sid);
        if (until != null && until > now) {
            return true;
        }
        if (sid.startsWith(KEY_PREFIX)) {
            final int end = sid.indexOf(':', KEY_PREFIX.length());
            final Long keyUntil = current.get(end < 0 ? sid : sid.substring(0, end));
            return keyUntil != null && keyUntil > now;
        }
        return false;
    }

    private String source() {
        return redis != null ? "Redis" : file.toString();
    }

    // Refuses (UNAVAILABLE) while the list has not been read for longer than STALE_AFTER_MS.
    private void requireReadable() {
        if (System.nanoTime() - readNanos > TimeUnit.MILLISECONDS.toNanos(STALE_AFTER_MS)) {
            throw new RevocationListUnavailableException(redis != null);
        }
    }

    // On the refresher's thread: reads the list again when it changed.
    private void refresh() {
        try {
            if (redis != null) {
                if (!Objects.equals(redis.get(REDIS_VERSION), loadedRedisVersion)) {
                    loadRedis();
                }
            } else {
                try {
                    if (!Files.getLastModifiedTime(file).equals(loadedVersion)) {
                        load();
                    }
                } catch (NoSuchFileException e) {
                    revoked = Map.of();
                    users = Map.of();
                    loadedVersion = null;
                }
            }
            readNanos = System.nanoTime();
            if (unreadable) {
                unreadable = false;
                logger.info("The revocation list is read again from {}", source());
            }
        } catch (IOException | RuntimeException e) {
            // Not read now: the last list read stays in force until it is stale (requireReadable).
            if (!unreadable) {
                unreadable = true;
                logger.atWarn().addKeyValue("engine", redis != null ? "redis" : "file")
                      .log("The revocation list cannot be read from {} ({}): tokens are refused if it stays so for {} ms",
                           source(), e.toString(), STALE_AFTER_MS);
            }
        }
    }

    private synchronized void loadRedis() {
        final String version = redis.get(REDIS_VERSION);
        final List<String> lines = new java.util.ArrayList<>();
        redis.hgetAll(REDIS_HASH).forEach((id, value) -> lines.add(id + ' ' + value));
        parse(lines);
        loadedRedisVersion = version;
    }

    private synchronized void load() throws IOException {
        final FileTime version = Files.getLastModifiedTime(file);
        parse(Files.readAllLines(file, StandardCharsets.US_ASCII));
        loadedVersion = version;
    }

    private void parse(List<String> lines) {
        final long now = System.currentTimeMillis();
        final Map<String, Long> read = new HashMap<>();
        final Map<String, UserChange> changes = new HashMap<>();
        for (String line : lines) {
            final String[] fields = line.trim().split(" ");
            try {
                if (fields.length == 2) {
                    final long until = Long.parseLong(fields[1]);
                    if (until > now) {
                        read.merge(fields[0], until, Math::max);
                    }
                } else if (fields.length == 4 && fields[0].startsWith(USER_PREFIX)) {
                    final UserChange change = new UserChange(Long.parseLong(fields[1]), Long.parseLong(fields[2]),
                                                             NO_ROLE.equals(fields[3]) ? null : Roles.parse(fields[3]));
                    changes.put(fields[0], change); // the newest line of a user wins, even when it ends sooner
                }
            } catch (IllegalArgumentException ignored) {
                // a torn last line while the gateway appends: read again at the next change
            }
        }
        changes.values().removeIf(change -> change.untilMs() <= now);
        revoked = Map.copyOf(read);
        users = Map.copyOf(changes);
    }

    private void compact() throws IOException {
        final Path temp = Files.createTempFile(file.getParent(), "revoked-sessions.", ".tmp",
                                               PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        final StringBuilder lines = new StringBuilder();
        revoked.forEach((id, until) -> lines.append(id).append(' ').append(until).append('\n'));
        users.forEach((id, change) -> lines.append(id).append(' ').append(change.untilMs()).append(' ')
                                           .append(change.notBeforeMs()).append(' ')
                                           .append(change.role() == null ? NO_ROLE : Roles.name(change.role()))
                                           .append('\n'));
        Files.writeString(temp, lines, StandardCharsets.US_ASCII);
        Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
