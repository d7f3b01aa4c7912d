package ai.sonia.pipecat;

import static ai.sonia.pipecat.SessionOwnershipTest.assertLooksUnknown;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;

import org.junit.jupiter.api.Test;

import com.google.protobuf.util.Timestamps;

import ai.sonia.pipecat.store.SqliteSessionStoreTest;
import ai.sonia.pipecat.v1.EventType;
import ai.sonia.pipecat.v1.GetSessionRequest;
import ai.sonia.pipecat.v1.ListSessionsRequest;
import ai.sonia.pipecat.v1.Session;
import ai.sonia.pipecat.v1.SessionState;

/**
 * A database written before sessions had owners opens as it was, its sessions now belonging to the one
 * user the stack had then: user "local" of tenant "default".
 */
class LegacyDatabaseTest {

    @Test
    void sessionsOfAnOldDatabaseBelongToTheLocalUserOfTheDefaultTenant() throws Exception {
        try (PipecatHarness pipecat = new PipecatHarness()) {
            final Path dataDir = pipecat.config.dataDir("pipecat");
            pipecat.restart(() -> writeLegacyDatabase(dataDir));

            final String local = pipecat.userToken("default", "local");
            final Session session = pipecat.blocking(local).getSession(
                    GetSessionRequest.newBuilder().setSessionId("old-1").build());
            assertThat(session.getTenant()).isEqualTo("default");
            // The user the old request named is not trusted: the snapshot said "alice", the owner is "local".
            assertThat(session.getUserId()).isEqualTo("local");
            assertThat(session.getMetadataMap()).containsEntry("topic", "before auth");
            assertThat(pipecat.blocking(pipecat.adminToken("default"))
                              .listSessions(ListSessionsRequest.getDefaultInstance()).getSessionsList())
                    .extracting(Session::getSessionId).containsExactly("old-1");

            assertLooksUnknown(() -> pipecat.blocking(pipecat.userToken("default", "alice")).getSession(
                    GetSessionRequest.newBuilder().setSessionId("old-1").build()), "old-1");
            assertLooksUnknown(() -> pipecat.blocking().getSession(
                    GetSessionRequest.newBuilder().setSessionId("old-1").build()), "old-1");

            // It is a working session, and new ones sit beside it.
            final WsClient client = pipecat.ws(local, "old-1", 0);
            client.send("{\"type\":\"EVENT_TYPE_MESSAGE\",\"text\":\"still here\"}");
            client.await(e -> e.getType() == EventType.EVENT_TYPE_TURN);
            client.close();
            pipecat.restart();
            assertThat(pipecat.blocking(local).getSession(GetSessionRequest.newBuilder().setSessionId("old-1").build())
                              .getHistoryList()).extracting(h -> h.getText())
                                                .containsExactly("still here", "echo: still here");
        }
    }

    // The schema and rows exactly as the service wrote them before sessions had owners.
    private static void writeLegacyDatabase(Path dataDir) {
        try {
            for (String file : new String[] { "pipecat.db", "pipecat.db-wal", "pipecat.db-shm" }) {
                Files.deleteIfExists(dataDir.resolve(file));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        final var now = Timestamps.fromMillis(System.currentTimeMillis());
        final Session old = Session.newBuilder().setSessionId("old-1").setState(SessionState.SESSION_STATE_CREATED)
                                   .setUserId("alice").setTenant("default").setCreateTime(now).setUpdateTime(now)
                                   .setLastActivityTime(now).putMetadata("topic", "before auth").build();
        try (Connection db = DriverManager.getConnection("jdbc:sqlite:" + dataDir.resolve("pipecat.db"));
             Statement st = db.createStatement()) {
            SqliteSessionStoreTest.createPreFlywaySchema(st, false);
            try (PreparedStatement ps = db.prepareStatement(
                    "INSERT INTO sessions (session_id, state, create_ms, activity_ms, snapshot)"
                    + " VALUES (?, ?, ?, ?, ?)")) {
                ps.setString(1, old.getSessionId());
                ps.setInt(2, old.getStateValue());
                ps.setLong(3, Timestamps.toMillis(now));
                ps.setLong(4, Timestamps.toMillis(now));
                ps.setBytes(5, old.toByteArray());
                ps.executeUpdate();
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}
