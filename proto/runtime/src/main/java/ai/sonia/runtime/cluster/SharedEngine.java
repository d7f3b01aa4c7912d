package ai.sonia.runtime.cluster;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import ai.sonia.runtime.ConfigKey;
import ai.sonia.runtime.OwnerOnlyFiles;
import ai.sonia.runtime.Shared;
import ai.sonia.runtime.StackConfig;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.exceptions.JedisBusyException;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisDataException;

/**
 * What replicas of a service share within a second (training locks, rate-limit buckets, the revocation list,
 * pipecat's event fan-out):
 * {@code local} (the default: in-process state and the machine's own files, one machine) or {@code redis} (one
 * Redis server every replica reaches). One Redis client (a connection pool) per JVM and URL, through
 * {@link Shared}. The password is read from an owner-only file, never from the URL, and never logged.
 *
 * <pre>{@code
 * "shared": { "engine": "redis", "redis": { "url": "redis://10.0.0.5:6379/0", "passwordFile": "secrets/redis" } }
 * }</pre>
 */
public final class SharedEngine {

    // Redis error replies that pass by themselves (the first word of the reply); BUSY has its own exception.
    private static final List<String> TRANSIENT_REPLIES = List.of("LOADING", "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN",
                                                                  "READONLY");

    /** The keys of the top-level {@code shared} section. */
    @ConfigKey("What replicas share within a second: training locks, rate limits, the revocation list, pipecat's"
               + " event fan-out.")
    public record Keys(
            @ConfigKey(value = "local: in-process state and this machine's files (one machine); redis: the Redis "
                               + "server of shared.redis, for replicas.", def = "local") String engine,
            @ConfigKey Redis redis) {}

    /** Where the Redis server is. */
    @ConfigKey("The Redis server of shared.engine redis.")
    public record Redis(
            @ConfigKey(value = "redis://host:port[/db], or rediss:// for TLS; no password in it.",
                       def = "redis://127.0.0.1:6379") String url,
            @ConfigKey("Owner-only file (relative to SONIA_HOME) holding the Redis password; none when absent.")
            String passwordFile) {}

    /** The Redis client every store of this JVM uses, when {@code config} says {@code shared.engine: redis}. */
    public static Optional<UnifiedJedis> redis(StackConfig config) {
        final Keys keys = config.section("shared", Keys.class);
        final String engine = keys.engine() == null ? "local" : keys.engine().trim();
        switch (engine) {
            case "local":
                return Optional.empty();
            case "redis":
                break;
            default:
                throw new IllegalArgumentException("shared.engine: \"" + engine + "\" (expected: local or redis)");
        }
        final URI uri = uri(shownUrl(config));
        final String passwordFile = keys.redis() == null ? null : keys.redis().passwordFile();
        final Path password = passwordFile == null || passwordFile.isBlank()
                              ? null : config.home().resolve(passwordFile.trim());
        return Optional.of(Shared.get("redis/" + uri + (password == null ? "" : " " + password),
                                      () -> connect(uri, password)));
    }

    /**
     * Whether {@code failure} says the shared engine cannot serve now rather than that the request was wrong: Redis
     * unreachable, or up and answering an error reply that passes by itself (a script running too long, a data set
     * still loading, a replica cut off from its primary or read-only after a fail-over, a cluster reconfiguring).
     */
    public static boolean cannotServeNow(Throwable failure) {
        if (failure instanceof JedisConnectionException || failure instanceof JedisBusyException) {
            return true;
        }
        if (failure instanceof JedisDataException error && error.getMessage() != null) {
            final String reply = error.getMessage();
            return TRANSIENT_REPLIES.stream().anyMatch(reply::startsWith);
        }
        return false;
    }

    /** The Redis URL of {@code config} (which never holds a credential), for messages and logs. */
    public static String shownUrl(StackConfig config) {
        final Keys keys = config.section("shared", Keys.class);
        return keys.redis() == null || keys.redis().url() == null ? "redis://127.0.0.1:6379" : keys.redis().url().trim();
    }

    private static URI uri(String url) {
        final URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("shared.redis.url: not a URL (expected redis://host:port[/db])");
        }
        if (!"redis".equals(uri.getScheme()) && !"rediss".equals(uri.getScheme()) || uri.getHost() == null) {
            throw new IllegalArgumentException("shared.redis.url: expected redis://host:port[/db] or rediss://...");
        }
        if (uri.getUserInfo() != null) {
            throw new IllegalArgumentException("shared.redis.url: no credentials in the URL; put the password in "
                                      + "shared.redis.passwordFile (an owner-only file)");
        }
        return uri;
    }

    private static UnifiedJedis connect(URI uri, Path passwordFile) {
        final DefaultJedisClientConfig.Builder client = DefaultJedisClientConfig.builder()
                .ssl("rediss".equals(uri.getScheme()))
                .database(database(uri))
                .clientName("sonia")
                .timeoutMillis(2_000);
        if (passwordFile != null) {
            client.password(OwnerOnlyFiles.readPassword(passwordFile, "shared.redis.passwordFile"));
        }
        return RedisClient.builder()
                          .hostAndPort(uri.getHost(), uri.getPort() < 0 ? 6379 : uri.getPort())
                          .clientConfig(client.build())
                          .build();
    }

    private static int database(URI uri) {
        final String path = uri.getPath() == null ? "" : uri.getPath().replace("/", "");
        try {
            return path.isEmpty() ? 0 : Integer.parseInt(path);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("shared.redis.url: the path is a database number, not \"" + path + '"');
        }
    }

    private SharedEngine() {}
}
