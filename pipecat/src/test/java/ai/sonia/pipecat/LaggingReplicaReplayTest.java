package ai.sonia.pipecat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.LongStream;

import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import ai.sonia.pipecat.v1.Attach;
import ai.sonia.pipecat.v1.ConverseRequest;
import ai.sonia.pipecat.v1.EventType;
import ai.sonia.pipecat.v1.GetSessionRequest;
import ai.sonia.pipecat.v1.SessionEvent;
import ai.sonia.pipecat.v1.StartSessionRequest;
import ai.sonia.runtime.testing.EmbeddedPostgresExtension;

/**
 * Two pipecat replicas on one PostgreSQL ({@code store.engine: postgres}) whose in-memory copies of a session do not
 * follow each other (no fan-out: the extreme of a copy that fell behind, as when fan-out messages were lost and the
 * resync has not run yet). Replica A holds a session, with a client attached, while messages go through replica B.
 * An attach on A, by WebSocket or gRPC, replays exactly what the store holds (1..N, the same events B delivered),
 * then live events without gap or repeat; the client that stayed attached to A's stale copy gets what it missed,
 * in sequence. (ClusterIT found an attach on a lagging replica replaying only its copy, issue 16.)
 */
class LaggingReplicaReplayTest {

    @RegisterExtension
    @Order(1) // started before the replicas, which are given its address
    static final EmbeddedPostgresExtension postgres = new EmbeddedPostgresExtension();

    @RegisterExtension
    @Order(2)
    static final PipecatHarness.Replicas replicas = new PipecatHarness.Replicas(() -> new PipecatHarness(postgres.stackConfig(), Map.of()));

    @Test
    void anAttachOnAReplicaWhoseCopyFellBehindReplaysWhatTheStoreHoldsThenLiveEvents() throws Exception {
        final String id = replicas.a.blocking().startSession(StartSessionRequest.getDefaultInstance()).getSessionId();
        // A holds the session (1 start, 2 state=ACTIVE) with a client attached.
        final WsClient held = replicas.a.ws(id, 0);
        held.await(e -> e.getText().equals("state=ACTIVE"));

        // Three chat turns through B, which A does not hear of.
        final WsClient onB = replicas.b.ws(id, 2);
        for (int i = 1; i <= 3; i++) {
            onB.send("{\"type\":\"EVENT_TYPE_MESSAGE\",\"message_id\":\"b-" + i + "\",\"text\":\"through B " + i + "\"}");
        }
        awaitTurns(onB, 3);
        final long stored = lastSequence(replicas.b, id);
        assertThat(stored).isGreaterThan(2 + 3 * 2);
        assertThat(held.sequences()).as("A's copy is behind").containsExactly(1L, 2L);

        // On A: exactly what the store holds, by WebSocket and by gRPC.
        final WsClient replayWs = replicas.a.ws(id, 0);
        final ConverseStreamTest.Stream replayGrpc = new ConverseStreamTest.Stream();
        final var grpcRequests = replicas.a.async().converse(replayGrpc);
        grpcRequests.onNext(ConverseRequest.newBuilder().setAttach(Attach.newBuilder().setSessionId(id)).build());
        final List<Long> all = LongStream.rangeClosed(1, stored).boxed().toList();
        await().atMost(Duration.ofSeconds(10)).until(() -> replayWs.sequences().size() >= stored
                                                           && replayGrpc.sequences().size() >= stored);
        assertThat(replayWs.sequences()).isEqualTo(all);
        assertThat(replayGrpc.sequences()).isEqualTo(all);
        final List<SessionEvent> throughB = onB.events.stream().filter(e -> e.getSequence() > 2).toList();
        assertThat(replayWs.events.stream().filter(e -> e.getSequence() > 2).toList()).isEqualTo(throughB);
        assertThat(replayWs.events).extracting(SessionEvent::getText).contains("through B 1", "echo: through B 3");
        // The client attached all along got what it missed, once, in order.
        await().atMost(Duration.ofSeconds(10)).until(() -> held.sequences().size() >= stored);
        assertThat(held.sequences()).isEqualTo(all);

        // Then live: a turn through A reaches every client on A after the replay, nothing missed or doubled.
        replayWs.send("{\"type\":\"EVENT_TYPE_MESSAGE\",\"message_id\":\"a-1\",\"text\":\"through A\"}");
        replayWs.await(e -> e.getType() == EventType.EVENT_TYPE_TURN && e.getSequence() > stored);
        final long last = lastSequence(replicas.a, id);
        final List<Long> everything = LongStream.rangeClosed(1, last).boxed().toList();
        await().atMost(Duration.ofSeconds(10)).until(() -> replayGrpc.sequences().size() >= last
                                                           && held.sequences().size() >= last);
        assertThat(replayWs.sequences()).isEqualTo(everything);
        assertThat(replayGrpc.sequences()).isEqualTo(everything);
        assertThat(held.sequences()).isEqualTo(everything);
        grpcRequests.onCompleted();
        for (WsClient client : List.of(held, onB, replayWs)) {
            client.close();
        }
    }

    // Until the client has seen `turns` chat turns end (each reply is followed by its TURN event).
    private static void awaitTurns(WsClient client, long turns) {
        await().atMost(Duration.ofSeconds(10)).until(
                () -> client.events.stream().filter(e -> e.getType() == EventType.EVENT_TYPE_TURN).count() >= turns);
    }

    private static long lastSequence(PipecatHarness replica, String id) {
        return replica.blocking().getSession(GetSessionRequest.newBuilder().setSessionId(id).build())
                      .getLastSequence();
    }
}
