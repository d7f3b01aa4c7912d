package ai.sonia.pipecat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import ai.sonia.pipecat.v1.EventType;
import ai.sonia.pipecat.v1.StartSessionRequest;

/**
 * A standard client's keepalive (RFC 6455 §5.5.2-3) over many ping rounds: the JDK's WebSocket client pings
 * on its own schedule while it talks and while it is silent, and answers the server's pings by itself. The
 * server's ping interval is 1 s here (20 s by default), so ten seconds hold several rounds of each side.
 */
class KeepaliveTest {

    private static PipecatHarness pipecat;

    @BeforeAll
    static void start() throws Exception {
        pipecat = new PipecatHarness(Map.of("SONIA_PIPECAT_PING_INTERVAL_MILLIS", "1000"));
    }

    @AfterAll
    static void stop() {
        pipecat.close();
    }

    @Test
    void aClientsPingsAreAllAnsweredAndTheSessionOutlivesManyPingRounds() throws Exception {
        pipecat.gateway.replyWith(text -> "echo: " + text);
        final String id = pipecat.blocking().startSession(StartSessionRequest.newBuilder().setVoice(true).build())
                                 .getSessionId();
        final WsClient client = pipecat.ws(id, 0);
        client.await(e -> e.getType() == EventType.EVENT_TYPE_SESSION_START);
        final List<String> sent = new ArrayList<>();
        // Five seconds of talk (a message a second, 20 ms of silence as audio) with a ping every 400 ms...
        for (int i = 0; i < 12; i++) {
            final String payload = "keepalive-" + i;
            client.ping(payload);
            sent.add(payload);
            if (i % 3 == 0) {
                client.send("{\"type\":\"EVENT_TYPE_MESSAGE\",\"text\":\"turn " + i + "\"}");
                client.sendAudio(new byte[640]);
            }
            Thread.sleep(400);
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> client.pongs.containsAll(sent));
        // ...then five seconds of nothing from the client but its answers to the server's pings.
        final int before = client.pings.get();
        await().atMost(Duration.ofSeconds(20)).until(() -> client.pings.get() >= before + 3);
        assertThat(client.closeCode).isNotDone();
        assertThat(client.events).filteredOn(e -> e.getType() == EventType.EVENT_TYPE_MESSAGE)
                                 .extracting(e -> e.getText()).contains("echo: turn 9");
        client.send("{\"type\":\"EVENT_TYPE_STATUS\"}");
        client.await(e -> e.getText().startsWith("state=ACTIVE last_sequence"));
        assertThat(client.closeCode).isNotDone();
        client.close();
    }
}
