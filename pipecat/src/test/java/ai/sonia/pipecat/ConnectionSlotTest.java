package ai.sonia.pipecat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import ai.sonia.pipecat.v1.EventType;
import ai.sonia.pipecat.v1.StartSessionRequest;

/**
 * An address's connection slots come back whichever way a socket ends: the client closing it, the client vanishing,
 * the server closing it for a bad frame, an unknown session or a bad {@code last_sequence}. With one slot per
 * address, a single slot kept by a socket that is gone would refuse every later connection (4029).
 */
class ConnectionSlotTest {

    private static final int ROUNDS = 5;

    @RegisterExtension
    static final PipecatHarness pipecat = new PipecatHarness(Map.of("SONIA_PIPECAT_MAX_CONNECTIONS_PER_IP", "1"));

    @Test
    void everyWayASocketEndsGivesItsSlotBack() throws Exception {
        final String id = pipecat.blocking().startSession(StartSessionRequest.getDefaultInstance()).getSessionId();
        for (int round = 0; round < ROUNDS; round++) {
            for (String ending : List.of("client close", "client abort", "bad frame", "unsupported frame",
                                         "unknown session", "bad last_sequence", "message then close")) {
                final WsClient client = connectWhenFree(ending.equals("unknown session") ? "no-such-session" : id,
                                                        ending.equals("bad last_sequence") ? -1 : 0);
                switch (ending) {
                    case "client close" -> {
                        client.await(e -> e.getType() == EventType.EVENT_TYPE_SESSION_START);
                        client.close();
                        assertThat(client.awaitClose()).isEqualTo(1000);
                    }
                    case "client abort" -> {
                        client.await(e -> e.getType() == EventType.EVENT_TYPE_SESSION_START);
                        client.abort();
                    }
                    case "bad frame" -> {
                        client.send("{not json");
                        assertThat(client.awaitClose()).isEqualTo(1002);
                    }
                    case "unsupported frame" -> {
                        client.send("{\"type\":\"EVENT_TYPE_TTS_AUDIO\"}");
                        assertThat(client.awaitClose()).isEqualTo(1003);
                    }
                    case "message then close" -> {
                        client.send("{\"type\":\"EVENT_TYPE_MESSAGE\",\"text\":\"r" + round + "\"}");
                        client.close();
                        client.awaitClose();
                    }
                    case "unknown session" -> assertThat(client.awaitClose()).isEqualTo(4001);
                    default -> assertThat(client.awaitClose()).as(ending).isEqualTo(1002); // bad last_sequence
                }
            }
        }
    }

    // The next socket, once the last one's slot is back: a slot that never comes back fails here, naming the wait.
    private static WsClient connectWhenFree(String sessionId, long lastSequence) {
        final WsClient[] accepted = new WsClient[1];
        await("a connection slot given back").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20))
                                             .until(() -> {
                                                 final WsClient client = WsClient.connect(pipecat.port(), sessionId,
                                                                                          lastSequence, null,
                                                                                          pipecat.token);
                                                 if (refused(client)) {
                                                     return false;
                                                 }
                                                 accepted[0] = client;
                                                 return true;
                                             });
        return accepted[0];
    }

    // Every socket gets an event first: the replay's SESSION_START, an ERROR that explains its close, or, refused at
    // the limit, an ERROR RATE_LIMITED (then close 4029).
    private static boolean refused(WsClient client) {
        await().atMost(Duration.ofSeconds(10)).until(() -> !client.events.isEmpty());
        return "RATE_LIMITED".equals(client.events.get(0).getErrorCode());
    }
}
