package ai.sonia.pipecat;

import static ai.sonia.pipecat.SessionLifecycleTest.post;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import com.linecorp.armeria.common.AggregatedHttpResponse;

import ai.sonia.common.v1.ErrorCode;
import ai.sonia.common.v1.Role;
import ai.sonia.pipecat.domain.EventFanout;
import ai.sonia.pipecat.domain.EventPublisher;
import ai.sonia.pipecat.domain.SessionStore;
import ai.sonia.pipecat.domain.Sessions;
import ai.sonia.pipecat.store.SqliteSessionStore;
import ai.sonia.pipecat.v1.Attach;
import ai.sonia.pipecat.v1.ConverseRequest;
import ai.sonia.pipecat.v1.EventType;
import ai.sonia.pipecat.v1.GetSessionRequest;
import ai.sonia.pipecat.v1.SessionEvent;
import ai.sonia.pipecat.v1.SessionState;
import ai.sonia.pipecat.v1.StartSessionRequest;
import ai.sonia.pipecat.v1.StopSessionRequest;
import ai.sonia.runtime.auth.Principal;
import ai.sonia.runtime.errors.DomainException;
import ai.sonia.runtime.limits.RateLimiter;
import ai.sonia.runtime.testing.DiskFaults;
import ai.sonia.runtime.testing.RedisServerExtension;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import redis.clients.jedis.exceptions.JedisDataException;

/**
 * A dependency of pipecat that stays down. Redis, with {@code shared.engine: redis}, where each session's event budget
 * lives: a client event is refused with an ERROR {@code UNAVAILABLE} naming the shared limiter, over the WebSocket and
 * the gRPC stream alike; the connection stays open and nothing is stored (fail closed). Once Redis is back on its port
 * the next event is accepted, without restarting pipecat. Stopping and deleting a session need no Redis. The session
 * store's disk refusing writes: the connection ends with an ERROR {@code UNAVAILABLE} naming the store, close code 1013
 * (try again later) or gRPC UNAVAILABLE, and a client that reconnects once the disk is back carries on.
 */
class DependencyOutageTest {

    @RegisterExtension
    static final RedisServerExtension redis = new RedisServerExtension();

    // Made once Redis runs (its config names Redis's port); extensions start before @BeforeAll.
    private static PipecatHarness pipecat;

    @BeforeAll
    static void start() {
        pipecat = new PipecatHarness(redis.env());
    }

    @AfterAll
    static void stop() {
        if (pipecat != null) {
            pipecat.close();
        }
    }

    @Test
    void whileRedisIsDownAnEventIsRefusedUnavailableAndOnceItIsBackTheNextIsAccepted() throws Exception {
        final Clients c = attachedSession();
        final long before = lastSequence(c.id());

        redis.stop();
        try {
            c.ws().sendEvent(message("w-1", "over the socket"));
            final SessionEvent refused = c.ws().await(e -> e.getType() == EventType.EVENT_TYPE_ERROR);
            assertThat(refused.getMessageId()).isEqualTo("w-1");
            assertRefusedUnavailable(refused);
            c.requests().onNext(ConverseRequest.newBuilder().setEvent(message("g-1", "over grpc")).build());
            final SessionEvent refusedOnGrpc = awaitGrpc(c.grpc(), e -> e.getType() == EventType.EVENT_TYPE_ERROR);
            assertThat(refusedOnGrpc.getMessageId()).isEqualTo("g-1");
            assertRefusedUnavailable(refusedOnGrpc);
            // Refused, not stored: the session's stream did not move.
            assertThat(lastSequence(c.id())).isEqualTo(before);
        } finally {
            redis.restart();
        }

        // The same events again (their message ids were not remembered): accepted, answered, on the same connections.
        c.ws().sendEvent(message("w-1", "over the socket"));
        c.ws().await(e -> e.getText().equals("echo: over the socket"));
        c.requests().onNext(ConverseRequest.newBuilder().setEvent(message("g-1", "over grpc")).build());
        awaitGrpc(c.grpc(), e -> e.getText().equals("echo: over grpc"));
        assertThat(c.ws().closeCode).isNotDone();
        assertThat(c.grpc().done).isNotDone();
        assertThat(c.ws().events).filteredOn(e -> e.getType() == EventType.EVENT_TYPE_ERROR).hasSize(1);
        c.requests().onCompleted();
        c.ws().close();
    }

    @Test
    void attachingPausingStoppingAndDeletingNeedNoRedis() throws Exception {
        final String overRest = pipecat.blocking().startSession(StartSessionRequest.getDefaultInstance())
                                       .getSessionId();
        final String overGrpc = pipecat.blocking().startSession(StartSessionRequest.getDefaultInstance())
                                       .getSessionId();
        redis.stop();
        try {
            // Events stored meanwhile (state=ACTIVE, state=PAUSED) reach this replica's clients; the fan-out keeps
            // them for the other replicas until Redis is back.
            final WsClient ws = pipecat.ws(overGrpc, 0);
            ws.await(e -> e.getText().equals("state=ACTIVE"));
            final AggregatedHttpResponse paused = pipecat.rest(pipecat.token).execute(
                    post("/session/pause", "{\"session_id\":\"" + overGrpc + "\"}")).aggregate().join();
            assertThat(paused.status().code()).as(paused.contentUtf8()).isEqualTo(200);
            ws.await(e -> e.getText().equals("state=PAUSED"));
            final AggregatedHttpResponse stopped = pipecat.rest(pipecat.token).execute(
                    post("/session/stop", "{\"session_id\":\"" + overRest + "\"}")).aggregate().join();
            assertThat(stopped.status().code()).as(stopped.contentUtf8()).isEqualTo(200);
            assertThat(stopped.contentUtf8()).contains("SESSION_STATE_CLOSED");
            assertThat(pipecat.blocking().stopSession(StopSessionRequest.newBuilder().setSessionId(overGrpc).build())
                              .getState()).isEqualTo(SessionState.SESSION_STATE_CLOSED);
            assertThat(ws.awaitClose()).isEqualTo(1000);
            final AggregatedHttpResponse deleted = pipecat.rest(pipecat.token).delete("/session/" + overRest)
                                                          .aggregate().join();
            assertThat(deleted.status().code()).as(deleted.contentUtf8()).isEqualTo(200);
        } finally {
            redis.restart();
        }
    }

    @Test
    void aStoreThatCannotWriteEndsTheConnectionUnavailableAndAReconnectCarriesOn() throws Exception {
        final Clients c = attachedSession();
        final long before = lastSequence(c.id());

        try (DiskFaults ignored = DiskFaults.readOnly(pipecat.config.dataDir("pipecat"))) {
            c.ws().sendEvent(message("d-1", "on a read-only disk"));
            final SessionEvent error = c.ws().await(e -> e.getType() == EventType.EVENT_TYPE_ERROR);
            assertThat(error.getErrorCode()).isEqualTo("UNAVAILABLE");
            assertThat(error.getText()).contains("session store is unavailable", "pipecat.db", "last_sequence");
            assertThat(c.ws().awaitClose()).isEqualTo(1013);

            c.requests().onNext(ConverseRequest.newBuilder().setEvent(message("d-2", "on a read-only disk")).build());
            assertThat(c.grpc().done.get(10, TimeUnit.SECONDS)).isEqualTo(Status.Code.UNAVAILABLE);
            assertThat(Status.fromThrowable(c.grpc().error).getDescription()).contains("session store unavailable");
            assertThat(c.grpc().events).anySatisfy(e -> assertThat(e.getErrorCode()).isEqualTo("UNAVAILABLE"));
        }

        // The disk takes writes again: a client that reconnects from where it was gets the rest, and its message goes
        // through (it was not taken, nor its message id remembered).
        final WsClient again = pipecat.ws(c.id(), before);
        again.sendEvent(message("d-1", "on a read-only disk"));
        again.await(e -> e.getText().equals("echo: on a read-only disk"));
        assertThat(again.sequences().get(0)).isEqualTo(before + 1);
        again.close();
    }

    @Test
    void aStoreFailingPartWayThroughAMessageKeepsNoneOfItSoTheResendIsTaken() throws Exception {
        final Clients c = attachedSession();
        final long before = lastSequence(c.id());
        // A real SQLite failure after the message id is written: the event's insert aborts.
        try (Connection db = DriverManager.getConnection(
                "jdbc:sqlite:" + pipecat.config.dataDir("pipecat").resolve("pipecat.db"));
             Statement sql = db.createStatement()) {
            sql.execute("CREATE TRIGGER injected_fault BEFORE INSERT ON events"
                        + " BEGIN SELECT RAISE(ABORT, 'injected fault'); END");
            try {
                c.ws().sendEvent(message("f-1", "through a failing store"));
                assertThat(c.ws().await(e -> e.getType() == EventType.EVENT_TYPE_ERROR).getMessageId())
                        .isIn("f-1", "");
            } finally {
                sql.execute("DROP TRIGGER injected_fault");
            }
        }

        // The client resends its message: taken, not ignored as a duplicate of the one that failed.
        final WsClient again = pipecat.ws(c.id(), before);
        again.sendEvent(message("f-1", "through a failing store"));
        again.await(e -> e.getText().equals("echo: through a failing store"));
        again.close();
    }

    @Test
    void anyFaultOfTheLimiterRefusesTheEventUnavailable() {
        // Redis up but not serving (a replica loading its data set, say): an error reply, not a broken connection.
        final RateLimiter loading = new RateLimiter() {
            @Override
            public long tryTake(String key, Limit limit) {
                throw new JedisDataException("LOADING Redis is loading the dataset in memory");
            }

            @Override
            public long charge(String key, Limit limit, long tokens) {
                throw new UnsupportedOperationException();
            }

            @Override
            public long secondsUntilToken(String key, Limit limit) {
                throw new UnsupportedOperationException();
            }

            @Override
            public void reset(String key) {
                throw new JedisDataException("LOADING Redis is loading the dataset in memory");
            }
        };
        try (SqliteSessionStore store = SqliteSessionStore.open(Path.of("target", "limiter-" + UUID.randomUUID()))) {
            final Sessions sessions = new Sessions(store, EventPublisher.NONE, EventFanout.LOCAL, Clock.systemUTC(),
                                                   new SessionStore.Limits(10, 10), 10, loading, 100, 4, Duration.ofHours(1));
            final Principal ada = Principal.user("acme", "ada", Role.ROLE_USER);
            final String id = sessions.start(ada, "", Map.of(), false, "", "c").getSessionId();
            assertThatThrownBy(() -> sessions.tryAcquireEvent(id)).isInstanceOfSatisfying(
                    DomainException.class, e -> {
                        assertThat(e.code()).isEqualTo(ErrorCode.ERROR_CODE_UNAVAILABLE);
                        assertThat(e.getMessage()).contains("rate limiter (Redis)");
                    });
            assertThat(sessions.stop(ada, id, "done", "c").getState()).isEqualTo(SessionState.SESSION_STATE_CLOSED);
        }
    }

    /** A WebSocket and a gRPC stream ({@code requests} its client side) attached to one new session. */
    private record Clients(String id, WsClient ws, ConverseStreamTest.Stream grpc,
                           StreamObserver<ConverseRequest> requests) {}

    private static Clients attachedSession() throws Exception {
        final String id = pipecat.blocking().startSession(StartSessionRequest.getDefaultInstance()).getSessionId();
        final WsClient ws = pipecat.ws(id, 0);
        ws.await(e -> e.getText().equals("state=ACTIVE"));
        final ConverseStreamTest.Stream grpc = new ConverseStreamTest.Stream();
        final StreamObserver<ConverseRequest> requests = pipecat.async().converse(grpc);
        requests.onNext(ConverseRequest.newBuilder().setAttach(Attach.newBuilder().setSessionId(id)).build());
        awaitGrpc(grpc, e -> e.getText().equals("state=ACTIVE"));
        return new Clients(id, ws, grpc, requests);
    }

    private static void assertRefusedUnavailable(SessionEvent refused) {
        assertThat(refused.getType()).isEqualTo(EventType.EVENT_TYPE_ERROR);
        assertThat(refused.getErrorCode()).isEqualTo("UNAVAILABLE");
        assertThat(refused.getText()).contains("rate limiter (Redis)", "not accepted");
        assertThat(refused.getSequence()).isZero();
        assertThat(refused.getRetryAfter().getSeconds()).isPositive();
    }

    private static SessionEvent awaitGrpc(ConverseStreamTest.Stream stream, Predicate<SessionEvent> filter) {
        await().atMost(Duration.ofSeconds(10)).until(() -> stream.events.stream().anyMatch(filter)
                                                           || stream.done.isDone());
        return stream.events.stream().filter(filter).findFirst()
                            .orElseThrow(() -> new AssertionError("the stream ended: " + stream.error));
    }

    private static SessionEvent message(String messageId, String text) {
        return SessionEvent.newBuilder().setType(EventType.EVENT_TYPE_MESSAGE).setMessageId(messageId).setText(text)
                           .build();
    }

    private static long lastSequence(String id) {
        return pipecat.blocking().getSession(GetSessionRequest.newBuilder().setSessionId(id).build())
                      .getLastSequence();
    }
}
