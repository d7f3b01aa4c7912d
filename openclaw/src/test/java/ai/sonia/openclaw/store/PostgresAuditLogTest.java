package ai.sonia.openclaw.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import ai.sonia.openclaw.domain.AuditLog;
import ai.sonia.runtime.store.Postgres;
import ai.sonia.runtime.testing.EmbeddedPostgresExtension;

/**
 * The PostgreSQL tool audit against the contract every audit log meets (each test on a schema of its own: the
 * audit cannot be emptied), its trigger refusing any change, and two replicas on one database.
 */
class PostgresAuditLogTest extends AuditLogContract {

    @RegisterExtension
    static final EmbeddedPostgresExtension postgres = new EmbeddedPostgresExtension();

    private static final List<String> schemas = new ArrayList<>();

    @Override
    protected AuditLog newLog() {
        return PostgresAuditLog.open(settings(freshSchema()));
    }

    @Test
    void theAuditRefusesUpdateDeleteAndTruncate() throws SQLException {
        final String url = freshSchema();
        try (PostgresAuditLog log = PostgresAuditLog.open(settings(url))) {
            log.append(entry(Instant.EPOCH, "shell.run", "rm -rf /"));
        }
        for (String change : List.of("UPDATE openclaw_audit SET detail = 'ls'", "DELETE FROM openclaw_audit",
                                     "TRUNCATE openclaw_audit")) {
            try (Connection c = DriverManager.getConnection(url, "postgres", "unused");
                 Statement s = c.createStatement()) {
                assertThatThrownBy(() -> s.execute(change)).hasMessageContaining("the tool audit is append-only");
            }
        }
        try (PostgresAuditLog log = PostgresAuditLog.open(settings(url))) {
            assertThat(log.list(List.of(), 10).entries()).extracting(AuditLog.Entry::detail)
                                                         .containsExactly("rm -rf /");
        }
    }

    @Test
    void twoReplicasKeepOneAudit() {
        final Postgres.Settings settings = settings(freshSchema());
        try (PostgresAuditLog a = PostgresAuditLog.open(settings); PostgresAuditLog b = PostgresAuditLog.open(settings)) {
            final AuditLog.Entry first = a.append(entry(Instant.EPOCH, "file.read", "a"));
            final AuditLog.Entry second = b.append(entry(Instant.EPOCH.plusMillis(1), "file.read", "b"));
            for (AuditLog replica : List.of(a, b)) {
                assertThat(replica.list(List.of(), 10).entries()).containsExactly(second, first);
            }
            a.rememberResponse("acme/alice", "r1", new byte[] {1}, 10, 0);
            b.rememberResponse("acme/alice", "r1", new byte[] {2}, 11, 0); // the first stays
            assertThat(b.response("acme/alice", "r1", 0)).hasValueSatisfying(r -> assertThat(r).containsExactly(1));
        }
    }

    @Test
    void anUnreachableDatabaseFailsTheStartNamingIt() {
        EmbeddedPostgresExtension.assertFailsClosed(() -> PostgresAuditLog.open(EmbeddedPostgresExtension.unreachableSettings()));
    }

    /** The URL of a new, empty schema beside the class's. */
    private static String freshSchema() {
        final String schema = postgres.url().replaceFirst(".*currentSchema=", "") + "_" + schemas.size();
        execute("CREATE SCHEMA " + schema);
        schemas.add(schema);
        return postgres.url().replaceFirst("currentSchema=.*", "currentSchema=" + schema);
    }

    private static Postgres.Settings settings(String url) {
        return new Postgres.Settings(url, "postgres", "unused", 2);
    }

    @AfterAll
    static void dropSchemas() {
        schemas.forEach(schema -> execute("DROP SCHEMA " + schema + " CASCADE"));
    }

    private static void execute(String sql) {
        try (Connection c = postgres.connection();
             Statement s = c.createStatement()) {
            s.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}
