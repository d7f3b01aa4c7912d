package ai.sonia.pipecat.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import com.google.protobuf.util.Timestamps;

import ai.sonia.pipecat.domain.SessionStore;
import ai.sonia.pipecat.v1.EventType;
import ai.sonia.pipecat.v1.Session;
import ai.sonia.pipecat.v1.SessionEvent;
import ai.sonia.pipecat.v1.SessionState;
import ai.sonia.runtime.store.Postgres;
import ai.sonia.runtime.testing.EmbeddedPostgresExtension;

/**
 * The PostgreSQL session store against the contract every session store meets, and what only a shared engine
 * has to show: two stores on one database (two pipecat replicas) appending to one session at once.
 */
class PostgresSessionStoreTest extends SessionStoreContract {

    @RegisterExtension
    static final EmbeddedPostgresExtension postgres = new EmbeddedPostgresExtension();

    @Override
    protected SessionStore newStore() {
        emptyTables();
        return PostgresSessionStore.open(postgres.settings(4));
    }

    @Test
    void twoReplicasAppendingToOneSessionGetEverySequenceOnceAndInOrder() throws Exception {
        try (SessionStore other = PostgresSessionStore.open(postgres.settings(4))) {
            appendConcurrently(List.of(store, other));
        }
    }

    @Test
    void ofReplicasClosingOneSessionAtOnceExactlyOneClosesIt() throws Exception {
        final Session session = Session.newBuilder().setSessionId("s").setTenant("acme").setUserId("ada")
                                       .setState(SessionState.SESSION_STATE_ACTIVE)
                                       .setCreateTime(Timestamps.fromMillis(1000)).build();
        store.save(session);
        final Session closed = session.toBuilder().setState(SessionState.SESSION_STATE_CLOSED).build();
        try (SessionStore other = PostgresSessionStore.open(postgres.settings(4))) {
            final ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                final CountDownLatch start = new CountDownLatch(1);
                final List<Future<Boolean>> closes = new ArrayList<>();
                for (int i = 0; i < 8; i++) {
                    final SessionStore replica = i % 2 == 0 ? store : other;
                    final String stop = "stop-" + i;
                    closes.add(pool.submit(() -> {
                        start.await();
                        return replica.appendClosing(closed, event(stop), 100).isPresent();
                    }));
                }
                start.countDown();
                int closedHere = 0;
                for (Future<Boolean> close : closes) {
                    closedHere += close.get() ? 1 : 0;
                }
                assertThat(closedHere).isEqualTo(1);
            } finally {
                pool.shutdownNow();
            }
            assertThat(other.events("s", 0)).hasSize(1).allSatisfy(e -> assertThat(e.getSequence()).isEqualTo(1));
        }
    }

    @Test
    void aSnapshotSavedWithoutTheNewestEventsDoesNotHideThem() {
        final Session session = Session.newBuilder().setSessionId("s").setTenant("acme").setUserId("ada")
                                       .setCreateTime(Timestamps.fromMillis(1000)).build();
        store.save(session);
        store.appendEvent(session, event("m-1"), 100);
        store.appendEvent(session, event("m-2"), 100);
        // A replica that loaded the session before those events saves its state change.
        store.save(session.toBuilder().setState(SessionState.SESSION_STATE_PAUSED).build());
        final Session found = store.find("s").orElseThrow();
        assertThat(found.getState()).isEqualTo(SessionState.SESSION_STATE_PAUSED);
        assertThat(found.getLastSequence()).isEqualTo(2);
        assertThat(store.appendEvent(session, event("m-3"), 100).getSequence()).isEqualTo(3);
    }

    @Test
    void sharesTheDatabaseWithTheGatewaysSessionsTable() throws Exception {
        // Every service's stores share store.postgres; the gateway's accounts have a "sessions" table of their own.
        final String schema = postgres.url().replaceFirst(".*currentSchema=", "") + "_shared";
        final String url = postgres.url().replaceFirst("currentSchema=.*", "currentSchema=" + schema);
        execute(postgres.url(), "CREATE SCHEMA " + schema);
        try {
            execute(url, "CREATE TABLE sessions (id TEXT PRIMARY KEY, user_id TEXT NOT NULL)");
            try (SessionStore shared = PostgresSessionStore.open(new Postgres.Settings(url, "postgres", "unused", 1))) {
                final Session session = Session.newBuilder().setSessionId("s").setTenant("acme").setUserId("ada")
                                               .build();
                shared.save(session);
                assertThat(shared.find("s")).contains(session);
            }
        } finally {
            execute(postgres.url(), "DROP SCHEMA " + schema + " CASCADE");
        }
    }

    @Test
    void anUnreachableDatabaseFailsTheStartNamingIt() {
        EmbeddedPostgresExtension.assertFailsClosed(() -> PostgresSessionStore.open(EmbeddedPostgresExtension.unreachableSettings()));
    }

    private static SessionEvent event(String messageId) {
        return SessionEvent.newBuilder().setType(EventType.EVENT_TYPE_MESSAGE).setMessageId(messageId).build();
    }

    /** The contract wants an empty store per test; the schema is the class's, so its tables are emptied. */
    private static void emptyTables() {
        execute(postgres.url(), "DO $$ BEGIN IF to_regclass('pipecat_sessions') IS NOT NULL THEN TRUNCATE"
                                + " pipecat_sessions, pipecat_history, pipecat_events, pipecat_seen_messages; END IF; END $$");
    }

    private static void execute(String url, String sql) {
        try (Connection c = DriverManager.getConnection(url, "postgres", "unused"); Statement s = c.createStatement()) {
            s.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}
