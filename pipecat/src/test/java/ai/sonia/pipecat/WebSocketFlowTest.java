package ai.sonia.pipecat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import com.google.protobuf.util.JsonFormat;

import ai.sonia.pipecat.v1.EventType;
import ai.sonia.pipecat.v1.ListSessionsRequest;
import ai.sonia.pipecat.v1.SessionEvent;
import ai.sonia.pipecat.v1.StartSessionRequest;

/**
 * How a WebSocket behaves under load and at its ends, with real clients: bursts refused at the door, a slow
 * reader closed with the position to resume from, pings answered and sent, and the TCP connection closed as
 * soon as both close frames have crossed.
 */
class WebSocketFlowTest {

    @RegisterExtension
    static final PipecatHarness pipecat = new PipecatHarness(
            Map.of("SONIA_PIPECAT_MAX_WAITING_TURNS", "2", "SONIA_PIPECAT_PING_INTERVAL_MILLIS", "200",
                   "SONIA_PIPECAT_CLOSE_TIMEOUT_MILLIS", "1000"));

    @Test
    void aBurstBeyondTheTurnLineIsRefusedAtOnceAndOtherSessionsGoOn() throws Exception {
        pipecat.gateway.replyWith(text -> {
            if (text.startsWith("slow")) {
                sleep(300);
            }
            return "echo: " + text;
        });
        try {
            final WsClient burst = pipecat.ws(newSession(), 0);
            for (int i = 0; i < 20; i++) {
                burst.send("{\"type\":\"EVENT_TYPE_MESSAGE\",\"message_id\":\"b-" + i + "\",\"text\":\"slow " + i
                           + "\"}");
            }
            // Another session is served while the burst waits in its own line.
            final WsClient other = pipecat.ws(newSession(), 0);
            other.send("{\"type\":\"EVENT_TYPE_MESSAGE\",\"text\":\"hello\"}");
            other.await(e -> e.getText().equals("echo: hello"));

            await().atMost(Duration.ofSeconds(30)).until(() -> accepted(burst).size() + refused(burst).size() == 20);
            // One turn runs and two wait; the rest are refused when they arrive, each with a retry time.
            assertThat(accepted(burst)).hasSizeBetween(1, 3);
            assertThat(refused(burst)).allSatisfy(e -> {
                assertThat(e.getSequence()).isZero();
                assertThat(e.getMessageId()).startsWith("b-");
                assertThat(e.getRetryAfter().getSeconds() * 1000 + e.getRetryAfter().getNanos() / 1_000_000)
                        .isPositive();
            });
            // Every accepted message is answered; nothing accepted fails later.
            await().atMost(Duration.ofSeconds(30)).until(
                    () -> burst.events.stream().filter(e -> e.getRole().equals("assistant")).count()
                          == accepted(burst).size());
            assertThat(burst.events).noneMatch(e -> e.getType() == EventType.EVENT_TYPE_ERROR
                                                    && !e.getErrorCode().equals("RATE_LIMITED"));
            // A refused message was not taken: sent again later, it is processed, not a duplicate.
            final String again = refused(burst).get(0).getMessageId();
            burst.send("{\"type\":\"EVENT_TYPE_MESSAGE\",\"message_id\":\"" + again + "\",\"text\":\"quick\"}");
            burst.await(e -> e.getText().equals("echo: quick"));
            burst.close();
            other.close();
        } finally {
            pipecat.gateway.replyWith(text -> "echo: " + text);
        }
    }

    @Test
    void pingsAreAnsweredAndIdleClientsArePinged() throws Exception {
        final WsClient client = pipecat.ws(newSession(), 0);
        client.await(e -> e.getType() == EventType.EVENT_TYPE_SESSION_START);
        client.ping("are you there?");
        await().atMost(Duration.ofSeconds(10)).until(() -> client.pongs.contains("are you there?"));
        // Idle for ten ping intervals: the server pings, java.net.http answers, the connection stays.
        await().atMost(Duration.ofSeconds(30)).until(() -> client.pings.get() >= 5);
        assertThat(client.closeCode).isNotDone();
        client.send("{\"type\":\"EVENT_TYPE_STATUS\"}");
        client.await(e -> e.getText().startsWith("state=ACTIVE last_sequence"));
        client.close();
    }

    @Test
    void aClientThatNeverAnswersPingsIsDisconnected() throws Exception {
        try (RawWs silent = RawWs.connect(pipecat.port(), newSession() + "?last_sequence=0", pipecat.token, 0)) {
            RawWs.Frame frame;
            do {
                frame = silent.read();
            } while (frame.opcode() != RawWs.PING);
            assertThat(silent.eofWithin(10_000)).isTrue();
        }
    }

    @Test
    void theServerClosesTcpAsSoonAsTheCloseHandshakeIsDone() throws Exception {
        // The server closes (a malformed frame); the client answers; the server ends the connection.
        try (RawWs client = RawWs.connect(pipecat.port(), newSession() + "?last_sequence=0", pipecat.token, 0)) {
            client.sendText("{not json");
            RawWs.Frame frame;
            do {
                frame = client.read();
            } while (frame.opcode() != RawWs.CLOSE);
            assertThat(frame.closeCode()).isEqualTo(1002);
            client.sendClose(1002);
            final long millis = client.nanosUntilEof() / 1_000_000;
            System.out.println("{\"tcp_close_after_close_reply_ms\":" + millis + "}");
            // Armeria's defaults held it about 8 s (5 s request auto-abort + 3 s HTTP/1 close delay).
            assertThat(millis).isLessThan(2000);
        }
        // The client closes; the server answers and ends the connection.
        try (RawWs client = RawWs.connect(pipecat.port(), newSession() + "?last_sequence=0", pipecat.token, 0)) {
            client.read();
            client.sendClose(1000);
            RawWs.Frame frame;
            do {
                frame = client.read();
            } while (frame.opcode() != RawWs.CLOSE);
            assertThat(frame.closeCode()).isEqualTo(1000);
            final long millis = client.nanosUntilEof() / 1_000_000;
            System.out.println("{\"tcp_close_after_server_close_reply_ms\":" + millis + "}");
            assertThat(millis).isLessThan(2000);
        }
    }

    @Test
    void aSlowReaderIsClosed4008WithThePositionToResumeFromAndLosesNothing() throws Exception {
        try (PipecatHarness small = new PipecatHarness(Map.of("SONIA_PIPECAT_SEND_QUEUE", "8",
                                                                      "SONIA_PIPECAT_MAX_WAITING_TURNS", "200",
                                                                      "SONIA_PIPECAT_REPLAY_EVENTS", "1000",
                                                                      "SONIA_PIPECAT_PING_INTERVAL_MILLIS", "0",
                                                                      "SONIA_PIPECAT_CLOSE_TIMEOUT_MILLIS",
                                                                      "30000"))) {
            final String big = "x".repeat(200_000);
            small.gateway.replyWith(text -> big);
            final String id = small.blocking().startSession(StartSessionRequest.getDefaultInstance()).getSessionId();
            // A small receive window, and nothing read: the server's writes back up. 60 replies of 200 KB are more
            // than the kernel's buffers, the writer's window (16) and the send queue (8) hold.
            try (RawWs slow = RawWs.connect(small.port(), id + "?last_sequence=0", small.token, 4096);
                 RawWs fast = RawWs.connect(small.port(), id + "?last_sequence=0", small.token, 0)) {
                final int messages = 60;
                fast.chatTurnByTurn(messages);
                // SESSION_START, state=ACTIVE, then a user MESSAGE, the reply and a TURN per message.
                final long last = 2 + 3L * messages;
                await().atMost(Duration.ofSeconds(120)).until(() -> small.blocking().listSessions(
                        ListSessionsRequest.getDefaultInstance()).getSessions(0).getLastSequence() == last);

                // Now the slow client reads what it was sent: events in order, then the close.
                final List<Long> received = new ArrayList<>();
                RawWs.Frame frame;
                while ((frame = slow.read()).opcode() != RawWs.CLOSE) {
                    final SessionEvent.Builder event = SessionEvent.newBuilder();
                    JsonFormat.parser().merge(frame.text(), event);
                    if (event.getSequence() > 0) {
                        received.add(event.getSequence());
                    }
                }
                assertThat(frame.closeCode()).isEqualTo(4008);
                final Matcher resume = Pattern.compile("resume from last_sequence=(\\d+)").matcher(frame.closeReason());
                assertThat(resume.find()).as(frame.closeReason()).isTrue();
                final long resumeFrom = Long.parseLong(resume.group(1));
                assertThat(received).isNotEmpty();
                assertThat(received.get(received.size() - 1)).isEqualTo(resumeFrom);
                assertThat(resumeFrom).isLessThan(last);
                slow.sendClose(4008);

                // Resuming from there gives the rest: nothing lost, nothing twice.
                final WsClient resumed = small.ws(id, resumeFrom);
                await().atMost(Duration.ofSeconds(30)).until(() -> {
                    final List<Long> seqs = resumed.sequences();
                    return !seqs.isEmpty() && seqs.get(seqs.size() - 1) == last;
                });
                final List<Long> all = new ArrayList<>(received);
                all.addAll(resumed.sequences());
                final List<Long> expected = new ArrayList<>();
                for (long s = 1; s <= last; s++) {
                    expected.add(s);
                }
                assertThat(all).containsExactlyElementsOf(expected);
                resumed.close();
            }
        }
    }

    private static List<SessionEvent> accepted(WsClient client) {
        return client.events.stream().filter(e -> e.getSequence() > 0 && e.getRole().equals("user")).toList();
    }

    private static List<SessionEvent> refused(WsClient client) {
        return client.events.stream().filter(e -> e.getErrorCode().equals("RATE_LIMITED")).toList();
    }

    private static String newSession() {
        return pipecat.blocking().startSession(StartSessionRequest.getDefaultInstance()).getSessionId();
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
