package ai.sonia.pipecat.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.util.Comparator;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import com.google.protobuf.util.Timestamps;

import ai.sonia.pipecat.domain.SessionStore;
import ai.sonia.pipecat.v1.Session;
import ai.sonia.pipecat.v1.SessionState;
import ai.sonia.runtime.store.Sqlite;

public class SqliteSessionStoreTest extends SessionStoreContract {

    private static final Path DIRS = Path.of("target", "session-stores");

    @Override
    protected SessionStore newStore() throws Exception {
        return SqliteSessionStore.open(newDir());
    }

    @Test
    void aDatabaseOfThePreviousCodeUpgradesInPlace() throws Exception {
        final Path dir = newDir();
        final Session old = Session.newBuilder().setSessionId("old").setTenant("acme").setUserId("ada")
                                   .setState(SessionState.SESSION_STATE_ACTIVE)
                                   .setCreateTime(Timestamps.fromMillis(1000))
                                   .setLastActivityTime(Timestamps.fromMillis(1000)).build();
        // The schema as the code before Flyway made it, owners and all, and no history table.
        try (Connection db = Sqlite.open(dir.resolve("pipecat.db")); Statement st = db.createStatement()) {
            createPreFlywaySchema(st, true);
            try (PreparedStatement ps = db.prepareStatement(
                    "INSERT INTO sessions VALUES ('old', 2, 1000, 1000, ?, 'acme', 'ada')")) {
                ps.setBytes(1, old.toByteArray());
                ps.executeUpdate();
            }
        }
        for (int i = 0; i < 2; i++) { // the second open finds nothing left to do
            try (SessionStore upgraded = SqliteSessionStore.open(dir)) {
                assertThat(upgraded.find("old")).contains(old);
                assertThat(upgraded.create(old.toBuilder().setSessionId("new-" + i).build(), "req-" + i)
                                   .getSessionId()).isEqualTo("new-" + i);
                assertThat(upgraded.findByRequest("acme", "ada", "req-0")).isPresent();
            }
        }
    }

    /**
     * The schema as the code before Flyway made it: with the owner columns as it did since sessions had
     * owners, without them before.
     */
    public static void createPreFlywaySchema(Statement st, boolean owners) throws java.sql.SQLException {
        st.execute("CREATE TABLE sessions (session_id TEXT PRIMARY KEY, state INTEGER NOT NULL,"
                   + " create_ms INTEGER NOT NULL, activity_ms INTEGER NOT NULL, snapshot BLOB NOT NULL"
                   + (owners ? ", tenant TEXT NOT NULL, user_id TEXT NOT NULL)" : ")"));
        st.execute("CREATE INDEX sessions_by_create ON sessions (create_ms DESC, session_id DESC)");
        if (owners) {
            st.execute("CREATE INDEX sessions_by_owner ON sessions (tenant, user_id, create_ms DESC, session_id DESC)");
        }
        st.execute("CREATE TABLE history (session_id TEXT NOT NULL, position INTEGER NOT NULL,"
                   + " entry BLOB NOT NULL, PRIMARY KEY (session_id, position))");
        st.execute("CREATE TABLE events (session_id TEXT NOT NULL, seq INTEGER NOT NULL,"
                   + " event BLOB NOT NULL, PRIMARY KEY (session_id, seq))");
        st.execute("CREATE TABLE seen_messages (session_id TEXT NOT NULL,"
                   + " message_id TEXT NOT NULL, PRIMARY KEY (session_id, message_id))");
    }

    private static Path newDir() throws Exception {
        return Files.createTempDirectory(Files.createDirectories(DIRS), "store-");
    }

    @AfterAll
    static void deleteDirs() throws Exception {
        try (Stream<Path> paths = Files.walk(DIRS)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        }
    }
}
