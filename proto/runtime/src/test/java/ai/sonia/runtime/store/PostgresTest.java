package ai.sonia.runtime.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import com.zaxxer.hikari.HikariDataSource;

import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.testing.EmbeddedPostgresExtension;
import ai.sonia.runtime.testing.TestHomes;

/**
 * The {@code store} section: SQLite unless told, PostgreSQL only with an owner-only password file; a
 * transaction aborted for a deadlock or serialization runs again.
 */
class PostgresTest {

    @RegisterExtension
    static final EmbeddedPostgresExtension postgres = new EmbeddedPostgresExtension();

    @Test
    void sqliteIsTheDefault() {
        assertThat(Postgres.from(TestHomes.config("store-default"))).isNull();
    }

    @Test
    void postgresSettingsComeFromTheSectionAndThePasswordFromAnOwnerOnlyFile() throws Exception {
        final Path home = TestHomes.create("store-postgres");
        final Path password = home.resolve("secrets/postgres");
        Files.createDirectories(password.getParent());
        Files.writeString(password, "s3cret\n");
        Files.setPosixFilePermissions(password, PosixFilePermissions.fromString("rw-------"));
        final StackConfig config = StackConfig.load(env(home, "postgres", "jdbc:postgresql://db:5432/sonia?ssl=true"));

        final Postgres.Settings settings = Postgres.from(config);
        assertThat(settings).isNotNull();
        assertThat(settings.shownUrl()).isEqualTo("jdbc:postgresql://db:5432/sonia");
        assertThat(settings.toString()).doesNotContain("s3cret").doesNotContain("ssl=true");

        Files.setPosixFilePermissions(password, PosixFilePermissions.fromString("rw-r--r--"));
        assertThatThrownBy(() -> Postgres.from(config)).hasMessageContaining("must be owner-only");
    }

    @Test
    void anUnknownEngineOrAMissingKeyIsRefused() {
        final Path home = TestHomes.create("store-unknown");
        assertThatThrownBy(() -> Postgres.from(StackConfig.load(env(home, "mysql", "jdbc:x"))))
                .hasMessageContaining("store.engine: unknown mysql (expected: sqlite or postgres)");
        final Map<String, String> noUrl = TestHomes.env(home);
        noUrl.put("SONIA_STORE_ENGINE", "postgres");
        assertThatThrownBy(() -> Postgres.from(StackConfig.load(noUrl)))
                .hasMessageContaining("store.postgres.url is required");
    }

    @Test
    void aDatabaseOutOfReachIsUnavailableAndAnyOtherFailureIsNot() {
        final RuntimeException otherwise = new IllegalStateException("bug");
        for (SQLException lost : List.of(new SQLException("refused", "08001"), new SQLException("gone", "57P01"),
                                         new SQLTransientConnectionException("pool timeout"))) {
            assertThat(Postgres.unavailableOr(lost, "pipecat", "pipecat-sessions", otherwise))
                    .isInstanceOfSatisfying(StoreUnavailableException.class, e -> {
                        assertThat(e.service()).isEqualTo("pipecat");
                        assertThat(e.store()).isEqualTo("pipecat-sessions");
                        assertThat(e).hasMessage("pipecat-sessions cannot be written now: PostgreSQL cannot be reached");
                    });
        }
        assertThat(Postgres.unavailableOr(new SQLException("syntax", "42601"), "pipecat", "s", otherwise))
                .isSameAs(otherwise);
        assertThat(Postgres.unavailableOr(new SQLException("no state"), "pipecat", "s", otherwise)).isSameAs(otherwise);
    }

    @Test
    void aTransactionAbortedForADeadlockOrSerializationRunsAgainAndOtherFailuresDoNot() throws SQLException {
        try (HikariDataSource pool = Postgres.open(postgres.settings(), "retry-test")) {
            final AtomicInteger runs = new AtomicInteger();
            final long answer = Postgres.inTransaction(pool, c -> {
                if (runs.incrementAndGet() < Postgres.ATTEMPTS) {
                    throw new SQLException(runs.get() == 1 ? "deadlock" : "serialization", runs.get() == 1 ? "40P01" : "40001");
                }
                try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT 42")) {
                    rs.next();
                    return rs.getLong(1);
                }
            });
            assertThat(answer).isEqualTo(42);
            assertThat(runs).hasValue(Postgres.ATTEMPTS);

            runs.set(0);
            assertThatThrownBy(() -> Postgres.inTransaction(pool, c -> {
                runs.incrementAndGet();
                throw new SQLException("deadlock", "40P01");
            })).hasMessage("deadlock");
            assertThat(runs).hasValue(Postgres.ATTEMPTS);

            runs.set(0);
            assertThatThrownBy(() -> Postgres.inTransaction(pool, c -> {
                runs.incrementAndGet();
                throw new SQLException("syntax", "42601");
            })).hasMessage("syntax");
            assertThat(runs).hasValue(1);
        }
    }

    private static final int REPLICAS = 6;

    /**
     * Replicas of a service starting together each migrate the same store on one fresh schema: every one starts,
     * and each migration runs once. Without a lock of our own around Flyway, a replica that found the schema
     * no longer empty (the other's history table just made) took it for a database made before Flyway, tried
     * to baseline it and failed ("unable to baseline schema history table ... as it already exists, and is
     * empty"): a cluster's first start failed now and then.
     */
    @Test
    void replicasMigratingOneSchemaAtOnceEachStartAndEachMigrationRunsOnce() throws Exception {
        for (int round = 0; round < 10; round++) {
            final String schema = "replicas_" + round;
            postgres.execute("CREATE SCHEMA " + schema);
            try {
                migrateAtOnce(new Postgres.Settings(postgres.url().replaceAll("currentSchema=.*", "currentSchema=" + schema),
                                                    "postgres", "unused", 2));
                assertThat(count(schema + ".replica_notes")).as("round %d", round).isEqualTo(1);
            } finally {
                postgres.execute("DROP SCHEMA " + schema + " CASCADE");
            }
        }
    }

    /** {@value #REPLICAS} pools of {@code settings}, each migrating store db/test/replicas at the same moment. */
    private static void migrateAtOnce(Postgres.Settings settings) throws Exception {
        final List<HikariDataSource> pools = new ArrayList<>();
        final ExecutorService replicas = Executors.newFixedThreadPool(REPLICAS);
        try {
            for (int i = 0; i < REPLICAS; i++) {
                pools.add(Postgres.open(settings, "replica-" + i));
            }
            final CyclicBarrier together = new CyclicBarrier(REPLICAS);
            final List<Future<?>> migrating = new ArrayList<>();
            for (HikariDataSource pool : pools) {
                migrating.add(replicas.submit(() -> {
                    together.await();
                    Postgres.migrate(pool, "db/test/replicas");
                    return null;
                }));
            }
            for (Future<?> migration : migrating) {
                migration.get();
            }
        } finally {
            replicas.shutdownNow();
            pools.forEach(HikariDataSource::close);
        }
    }

    private static int count(String table) throws SQLException {
        try (Connection c = postgres.connection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM " + table)) {
            rs.next();
            return rs.getInt(1);
        }
    }

    @Test
    void aStoresPostgresqlMigrationsLiveBesideItsSqliteTree() {
        assertThat(Postgres.sqlLocation("db/router/ledger")).isEqualTo("db/postgresql/router/ledger");
    }

    private static Map<String, String> env(Path home, String engine, String url) {
        final Map<String, String> env = TestHomes.env(home);
        env.put("SONIA_STORE_ENGINE", engine);
        env.put("SONIA_STORE_POSTGRES_URL", url);
        env.put("SONIA_STORE_POSTGRES_USER", "sonia");
        env.put("SONIA_STORE_POSTGRES_PASSWORD_FILE", "secrets/postgres");
        return env;
    }
}
