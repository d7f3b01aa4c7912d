package ai.sonia.pipecat;

import static ai.sonia.pipecat.SessionLifecycleTest.post;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;

import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import ai.sonia.pipecat.v1.Attach;
import ai.sonia.pipecat.v1.ConverseRequest;
import ai.sonia.pipecat.v1.EventType;
import ai.sonia.pipecat.v1.GetSessionRequest;
import ai.sonia.pipecat.v1.SessionEvent;
import ai.sonia.pipecat.v1.SessionState;
import ai.sonia.pipecat.v1.StartSessionRequest;
import ai.sonia.runtime.testing.RedisServerExtension;
import io.grpc.stub.StreamObserver;
import redis.clients.jedis.Protocol;

/**
 * Two pipecat replicas on one session store (one SQLite file) with {@code shared.engine: redis} and a real
 * {@code redis-server}: a client attached to replica A (WebSocket or gRPC stream) gets the events of what is sent
 * through replica B (WebSocket, gRPC, REST), in sequence, none lost or doubled; replays work on either replica;
 * a dropped subscription or a Redis restart loses nothing; owners are checked on both.
 */
class EventFanoutAcrossReplicasTest {

    // Redis first: the replicas' config names its port.
    @RegisterExtension
    @Order(1)
    static final RedisServerExtension redis = new RedisServerExtension();

    @RegisterExtension
    @Order(2)
    static final PipecatHarness.Replicas replicas = new PipecatHarness.Replicas(() -> new PipecatHarness(redis.env()));

    @Test
    void aClientOnOneReplicaGetsInSequenceWhatIsSentThroughTheOther() throws Exception {
        final String id = replicas.b.blocking().startSession(StartSessionRequest.getDefaultInstance()).getSessionId();
        final WsClient onA = attachOnA(id);
        final ConverseStreamTest.Stream grpcOnA = new ConverseStreamTest.Stream();
        replicas.a.async().converse(grpcOnA).onNext(attach(id));

        final WsClient onB = replicas.b.ws(id, 0);
        for (int i = 1; i <= 3; i++) {
            onB.send("{\"type\":\"EVENT_TYPE_MESSAGE\",\"message_id\":\"w-" + i + "\",\"text\":\"ws " + i + "\"}");
        }
        final ConverseStreamTest.Stream grpcOnB = new ConverseStreamTest.Stream();
        final StreamObserver<ConverseRequest> requests = replicas.b.async().converse(grpcOnB);
        requests.onNext(attach(id));
        requests.onNext(ConverseRequest.newBuilder().setEvent(SessionEvent.newBuilder().setType(
                EventType.EVENT_TYPE_MESSAGE).setMessageId("g-1").setText("grpc")).build());
        awaitTurns(onB, 4);
        for (String path : List.of("/session/pause", "/session/resume")) {
            assertThat(replicas.b.rest(replicas.b.token).execute(post(path, "{\"session_id\":\"" + id + "\"}"))
                               .aggregate().join().status().code()).isEqualTo(200);
        }

        final long last = lastSequence(replicas.b, id);
        final List<Long> all = LongStream.rangeClosed(1, last).boxed().toList();
        awaitSequences(onA, last);
        await().atMost(Duration.ofSeconds(10)).until(() -> grpcOnA.sequences().size() >= last);
        assertThat(onA.sequences()).isEqualTo(all);
        assertThat(grpcOnA.sequences()).isEqualTo(all);
        assertThat(onB.sequences()).isEqualTo(all);
        // The same events, not just the same numbers: A shows B's messages, the replies and the state changes.
        assertThat(onA.events.stream().filter(e -> e.getSequence() > 0).toList())
                .isEqualTo(onB.events.stream().filter(e -> e.getSequence() > 0).toList());
        assertThat(onA.events).extracting(SessionEvent::getText)
                              .contains("ws 1", "echo: ws 1", "echo: ws 3", "grpc", "echo: grpc", "state=PAUSED",
                                        "state=ACTIVE");

        // Replays, from a sequence number, on either replica.
        for (PipecatHarness replica : List.of(replicas.a, replicas.b)) {
            final WsClient resumed = replica.ws(id, 4);
            awaitSequences(resumed, last);
            assertThat(resumed.sequences()).isEqualTo(LongStream.rangeClosed(5, last).boxed().toList());
            resumed.close();
        }
        onA.close();
        onB.close();
    }

    @Test
    void aUserOfAnotherTenantCannotAttachOnEitherReplica() throws Exception {
        final String id = replicas.a.blocking().startSession(StartSessionRequest.getDefaultInstance()).getSessionId();
        final String stranger = replicas.a.userToken("globex", PipecatHarness.USER);
        for (PipecatHarness replica : List.of(replicas.a, replicas.b)) {
            final WsClient ws = replica.ws(stranger, id, 0);
            assertThat(ws.awaitClose()).isEqualTo(4001);
            assertThat(ws.sequences()).isEmpty();
        }
    }

    @Test
    void aDroppedSubscriptionLosesNothing() throws Exception {
        resumesAfter(() -> redis.client().sendCommand(Protocol.Command.CLIENT, "KILL", "TYPE", "pubsub"));
    }

    @Test
    void aRedisRestartLosesNothing() throws Exception {
        resumesAfter(() -> {
            try {
                redis.restart();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    // Messages sent through B right after `fault` reach A's client all the same, in sequence, once each.
    private static void resumesAfter(Runnable fault) throws Exception {
        final String id = replicas.a.blocking().startSession(StartSessionRequest.getDefaultInstance()).getSessionId();
        final WsClient onA = attachOnA(id);
        final WsClient onB = replicas.b.ws(id, 2);
        onB.send("{\"type\":\"EVENT_TYPE_MESSAGE\",\"message_id\":\"before\",\"text\":\"before\"}");
        awaitTurns(onA, 1);

        fault.run();
        for (int i = 1; i <= 2; i++) {
            onB.send("{\"type\":\"EVENT_TYPE_MESSAGE\",\"message_id\":\"after-" + i + "\",\"text\":\"after " + i
                     + "\"}");
        }
        awaitTurns(onB, 3);
        final long last = lastSequence(replicas.b, id);
        awaitSequences(onA, last);
        assertThat(onA.sequences()).isEqualTo(LongStream.rangeClosed(1, last).boxed().toList());
        assertThat(onA.events).extracting(SessionEvent::getText).contains("echo: after 1", "echo: after 2");
        // Where operators look: the fan-out is on Redis, and subscribed again.
        await().atMost(Duration.ofSeconds(10)).untilAsserted(
                () -> assertThat(replicas.a.rest(replicas.a.token).get("/status").aggregate().join().contentUtf8())
                        .contains("\"event_fanout\":\"redis\"", "\"target\":\"event fan-out\"")
                        .doesNotContain("not subscribed"));
        onA.close();
        onB.close();
    }

    // A WebSocket on A, attached (the session ACTIVE) and known to be so at B.
    private static WsClient attachOnA(String id) throws Exception {
        final WsClient onA = replicas.a.ws(id, 0);
        onA.await(e -> e.getText().equals("state=ACTIVE"));
        await().atMost(Duration.ofSeconds(10)).until(
                () -> replicas.b.blocking().getSession(GetSessionRequest.newBuilder().setSessionId(id).build())
                              .getState() == SessionState.SESSION_STATE_ACTIVE);
        return onA;
    }

    private static ConverseRequest attach(String id) {
        return ConverseRequest.newBuilder().setAttach(Attach.newBuilder().setSessionId(id)).build();
    }

    private static long lastSequence(PipecatHarness replica, String id) {
        return replica.blocking().getSession(GetSessionRequest.newBuilder().setSessionId(id).build())
                      .getLastSequence();
    }

    // Until the client has seen `turns` chat turns end (each reply is followed by its TURN event).
    private static void awaitTurns(WsClient client, long turns) {
        await().atMost(10, TimeUnit.SECONDS).until(
                () -> client.events.stream().filter(e -> e.getType() == EventType.EVENT_TYPE_TURN).count() >= turns);
    }

    private static void awaitSequences(WsClient client, long last) {
        await().atMost(10, TimeUnit.SECONDS).until(() -> client.sequences().contains(last));
    }
}
