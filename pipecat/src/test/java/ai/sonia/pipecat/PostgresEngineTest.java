package ai.sonia.pipecat;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import ai.sonia.pipecat.v1.EventType;
import ai.sonia.pipecat.v1.GetSessionRequest;
import ai.sonia.pipecat.v1.ListSessionsRequest;
import ai.sonia.pipecat.v1.PauseSessionRequest;
import ai.sonia.pipecat.v1.PipecatServiceGrpc;
import ai.sonia.pipecat.v1.PipecatServiceGrpc.PipecatServiceBlockingStub;
import ai.sonia.pipecat.v1.ResumeSessionRequest;
import ai.sonia.pipecat.v1.Session;
import ai.sonia.pipecat.v1.SessionEvent;
import ai.sonia.pipecat.v1.SessionState;
import ai.sonia.pipecat.v1.StartSessionRequest;
import ai.sonia.runtime.testing.EmbeddedPostgresExtension;
import ai.sonia.runtime.testing.SoniaServiceExtension;

/**
 * {@code "store": {"engine": "postgres"}}: two pipecat replicas on one database, where a session started
 * through one is listed, resumed and replayed exactly through the other; and a start that fails closed.
 */
class PostgresEngineTest {

    @RegisterExtension
    static final EmbeddedPostgresExtension postgres = new EmbeddedPostgresExtension();

    @Test
    void aSessionStartedThroughOneReplicaIsListedResumedAndReplayedThroughTheOther() throws Exception {
        final String config = postgres.stackConfig();
        try (SoniaServiceExtension a = SoniaServiceExtension.of(new PipecatModule()).stackConfig(config).start();
             SoniaServiceExtension b = SoniaServiceExtension.of(new PipecatModule()).stackConfig(config).start()) {
            // Through A: started (1), attached (2: state=ACTIVE), paused (3).
            final String id = stub(a).startSession(StartSessionRequest.getDefaultInstance()).getSessionId();
            final WsClient onA = WsClient.connect(a.port(), id, 0, null, a.userToken("acme", "ada"));
            onA.await(e -> e.getText().equals("state=ACTIVE"));
            stub(a).pauseSession(PauseSessionRequest.newBuilder().setSessionId(id).build());
            onA.await(e -> e.getText().equals("state=PAUSED"));
            onA.close();
            final List<SessionEvent> seenOnA = List.copyOf(onA.events);
            assertThat(onA.sequences()).containsExactly(1L, 2L, 3L);

            // Through B: listed and found as A left it, resumed (4), and replayed from the start.
            final PipecatServiceBlockingStub viaB = stub(b);
            assertThat(viaB.listSessions(ListSessionsRequest.getDefaultInstance()).getSessionsList())
                    .extracting(Session::getSessionId).containsExactly(id);
            final Session found = viaB.getSession(GetSessionRequest.newBuilder().setSessionId(id).build());
            assertThat(found.getState()).isEqualTo(SessionState.SESSION_STATE_PAUSED);
            assertThat(found.getLastSequence()).isEqualTo(3);
            assertThat(viaB.resumeSession(ResumeSessionRequest.newBuilder().setSessionId(id).build()).getState())
                    .isEqualTo(SessionState.SESSION_STATE_ACTIVE);
            final WsClient onB = WsClient.connect(b.port(), id, 0, null, b.userToken("acme", "ada"));
            final SessionEvent resumed = onB.await(e -> e.getSequence() == 4);
            assertThat(resumed.getType()).isEqualTo(EventType.EVENT_TYPE_STATUS);
            assertThat(resumed.getText()).isEqualTo("state=ACTIVE");
            assertThat(onB.sequences()).containsExactly(1L, 2L, 3L, 4L);
            // Exactly the events A delivered: the same ids, times and texts, nothing lost or doubled.
            assertThat(onB.events.subList(0, 3)).containsExactlyElementsOf(seenOnA);
            onB.close();

            // A client that had seen up to 2 (through A) catches up through B with 3 and 4 only.
            final WsClient catchUp = WsClient.connect(b.port(), id, 2, null, b.userToken("acme", "ada"));
            catchUp.await(e -> e.getSequence() == 4);
            assertThat(catchUp.sequences()).containsExactly(3L, 4L);
            catchUp.close();
        }
    }

    @Test
    void anUnreachablePostgresFailsTheStartNamingItAndNotThePassword() {
        final SoniaServiceExtension pipecat = SoniaServiceExtension.of(new PipecatModule())
                .stackConfig(EmbeddedPostgresExtension.stackConfig(EmbeddedPostgresExtension.UNREACHABLE));
        EmbeddedPostgresExtension.assertFailsClosed(pipecat::start);
        pipecat.close();
    }

    private static PipecatServiceBlockingStub stub(SoniaServiceExtension replica) {
        return replica.stub(PipecatServiceGrpc::newBlockingStub, replica.userToken("acme", "ada"));
    }
}
