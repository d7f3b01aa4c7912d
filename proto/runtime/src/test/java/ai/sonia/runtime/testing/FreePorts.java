package ai.sonia.runtime.testing;

import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Ports for the servers and processes a test starts.
 *
 * <p>Best is not to choose: bind port 0 and ask the server which port it got ({@code Server.activeLocalPort()},
 * {@code SoniaServer.port()}, {@link TestHomes#config}). A port picked by opening and closing a
 * {@code ServerSocket(0)} is not reserved: between the close and the real bind, an outgoing connection of any
 * process (the kernel gives those ports from the same ephemeral range) or another port-0 bind can take it, and the
 * start fails with "Address already in use". Where a port must be known before the server binds it (a child
 * process, services that must know each other's ports, a restart on the same port), {@link #pick} chooses one that
 * is free now and lies below the kernel's ephemeral range, where neither can take it; only another test's pick
 * can, so such starts go through {@link #retrying}, which tries again with fresh ports.
 */
public final class FreePorts {

    /** How often {@link #retrying} starts: a port taken twice in a row by chance is already very unlikely. */
    static final int ATTEMPTS = 3;
    /** The lowest port picked: above the usual service ports, the frozen 7000-7050 and the stacks' offsets. */
    static final int LOWEST = 20_000;
    private static final int BELOW = ephemeralLow();
    /** Ports handed out by this JVM: two picks never give the same port, even if the first is not bound yet. */
    private static final Set<Integer> given = ConcurrentHashMap.newKeySet();

    /** A port that is free now, outside the ephemeral range, and not handed out before in this JVM. */
    public static int pick() {
        for (int tries = 0; tries < 1000; tries++) {
            final int port = ThreadLocalRandom.current().nextInt(LOWEST, BELOW);
            if (!given.contains(port) && free(port) && given.add(port)) {
                return port;
            }
        }
        throw new IllegalStateException("no free port in " + LOWEST + '-' + (BELOW - 1));
    }

    /** A distinct {@link #pick()} for each name, in the order given. */
    public static Map<String, Integer> pick(Collection<String> names) {
        final Map<String, Integer> ports = new LinkedHashMap<>();
        names.forEach(name -> ports.put(name, pick()));
        return ports;
    }

    /**
     * Whether nothing holds {@code port} now: a bind on every address, without {@code SO_REUSEADDR} (so that a
     * port with connections still in TIME_WAIT counts as taken, the stricter answer).
     */
    public static boolean free(int port) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(false);
            socket.bind(new InetSocketAddress(port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Runs {@code start} again, up to {@value #ATTEMPTS} times in all, while it fails because a port was taken
     * (see {@link #inUse}); {@code start} must pick its ports afresh each time. Any other failure, and the last,
     * is thrown as it is.
     */
    public static <T> T retrying(Start<T> start) throws Exception {
        for (int attempt = 1;; attempt++) {
            try {
                return start.start();
            } catch (Exception | AssertionError e) {
                if (attempt == ATTEMPTS || !inUse(e)) {
                    throw e;
                }
            }
        }
    }

    /**
     * Whether {@code failure} says that a port was taken: a {@link BindException} in its causes, or a message
     * saying "Address already in use" (Netty, the JDK, PostgreSQL, Redis) or "port already in use" (what a
     * Sonia process prints when it cannot bind, {@code StartupErrors}), as a test reports a child's output.
     */
    public static boolean inUse(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            final String message = t.getMessage() == null ? "" : t.getMessage();
            if (t instanceof BindException || message.contains("Address already in use")
                || message.contains("port already in use")) {
                return true;
            }
        }
        return false;
    }

    /**
     * Starts {@code server}; if it cannot (its port taken, say), closes it, so that what it opened (its databases,
     * their locks) does not stand in the way of the next try, and rethrows.
     */
    public static ai.sonia.runtime.SoniaServer startOrClose(ai.sonia.runtime.SoniaServer server) {
        try {
            return server.start();
        } catch (RuntimeException e) {
            try {
                server.close();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /** A start that may fail because its port was taken. */
    @FunctionalInterface
    public interface Start<T> {
        T start() throws Exception;
    }

    // The first port of /proc/sys/net/ipv4/ip_local_port_range (Linux's default is 32768). Not Files.readString:
    // on this procfs file (size 0) it returns the first byte only.
    private static int ephemeralLow() {
        try {
            final int low = Integer.parseInt(
                    Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).get(0).trim().split("\\s+")[0]);
            return low > LOWEST + 1000 ? low : 32_768;
        } catch (IOException | RuntimeException e) {
            return 32_768;
        }
    }

    private FreePorts() {}
}
