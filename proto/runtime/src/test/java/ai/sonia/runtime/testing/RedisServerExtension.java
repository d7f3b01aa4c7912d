package ai.sonia.runtime.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import redis.clients.jedis.RedisClient;
import redis.clients.jedis.UnifiedJedis;

/**
 * A real {@code redis-server} (Debian's) for one test class, on a free loopback port, with no persistence and
 * its directory under {@code target/}; stopped after the class. Register it {@code static}:
 * <pre>{@code @RegisterExtension static final RedisServerExtension redis = new RedisServerExtension();}</pre>
 * Without {@code redis-server} on the PATH the class is skipped, the reason naming the install line
 * ({@code scripts/sonia test} installs it when it can).
 */
public final class RedisServerExtension implements BeforeAllCallback, AfterAllCallback {

    /** Why the class is skipped when the engine is missing. */
    public static final String MISSING = "redis-server is not installed: sudo apt-get install redis-server";

    private final java.util.List<UnifiedJedis> clients = new java.util.concurrent.CopyOnWriteArrayList<>();
    private Process process;
    private Path dir;
    private int port;

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        Assumptions.assumeTrue(Programs.onPath("redis-server"), MISSING);
        dir = Files.createDirectories(Path.of("target", "redis-" + UUID.randomUUID()));
        for (int attempt = 1; process == null; attempt++) {
            // Picked below the ephemeral range (FreePorts): restart() brings the server back on the same port.
            final int candidate = FreePorts.pick();
            if (launch(candidate)) {
                port = candidate;
            } else if (attempt == 3) {
                throw new IllegalStateException("redis-server did not start (3 ports tried)");
            }
        }
    }

    /** Stops the server (as an outage would); {@link #restart} brings it back on the same port. */
    public void stop() throws InterruptedException {
        if (process != null) {
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            process = null;
        }
    }

    /**
     * Stops the server if it runs and starts an empty one on the same port (what a restart of a Redis without
     * persistence does): every client connection breaks, every key and subscription is gone.
     */
    public void restart() throws IOException, InterruptedException {
        stop();
        for (int attempt = 1; !launch(port); attempt++) {
            if (attempt == 5) {
                throw new IllegalStateException("redis-server did not start again on port " + port);
            }
            Thread.sleep(100L * attempt); // the port may still be held by the old server's sockets
        }
    }

    private boolean launch(int candidate) throws IOException, InterruptedException {
        final Process started = new ProcessBuilder(
                "redis-server", "--port", Integer.toString(candidate), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", dir.toAbsolutePath().toString())
                .redirectErrorStream(true).start();
        if (ready(started)) {
            process = started;
            return true;
        }
        started.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        return false;
    }

    /** Reads the server's output until it is ready (true) or has exited (false); then drains it. */
    private static boolean ready(Process started) throws IOException {
        final BufferedReader out = new BufferedReader(new InputStreamReader(started.getInputStream(), StandardCharsets.UTF_8));
        for (String line = out.readLine(); line != null; line = out.readLine()) {
            if (line.contains("Ready to accept connections")) {
                final Thread drain = new Thread(() -> {
                    try {
                        out.transferTo(java.io.Writer.nullWriter());
                    } catch (IOException ignored) {
                        // the server stopped
                    }
                }, "redis-server-output");
                drain.setDaemon(true);
                drain.start();
                return true;
            }
        }
        return false;
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        clients.forEach(UnifiedJedis::close);
        clients.clear();
        stop();
    }

    /** The server's port. */
    public int port() {
        return port;
    }

    /** {@code redis://127.0.0.1:<port>}. */
    public String url() {
        return "redis://127.0.0.1:" + port;
    }

    /** The environment that points a stack's config at this server ({@code shared.engine: redis}). */
    public Map<String, String> env() {
        return Map.of("SONIA_SHARED_ENGINE", "redis", "SONIA_SHARED_REDIS_URL", url());
    }

    /** A new client of this server (a "replica" of its own), closed after the class. */
    public UnifiedJedis client() {
        final UnifiedJedis client = RedisClient.create("127.0.0.1", port);
        clients.add(client);
        return client;
    }
}
