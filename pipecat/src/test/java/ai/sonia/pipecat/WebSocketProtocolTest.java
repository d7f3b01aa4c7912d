package ai.sonia.pipecat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.net.http.WebSocketHandshakeException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import ai.sonia.pipecat.v1.EventType;
import ai.sonia.pipecat.v1.GetSessionRequest;
import ai.sonia.pipecat.v1.Session;
import ai.sonia.pipecat.v1.SessionEvent;
import ai.sonia.pipecat.v1.StartSessionRequest;
import ai.sonia.pipecat.v1.StopSessionRequest;

class WebSocketProtocolTest {

    // Bursts of 30 and 40 messages below wait in line for their turn instead of being refused. Tests open up to five
    // sockets at once, and a socket a test closed gives its slot back only once the server has seen the close: on a
    // loaded machine that can come after the next test connects, so the per-address limit (its own test below, with
    // the default 5) is set out of the way here.
    @RegisterExtension
    static final PipecatHarness pipecat = new PipecatHarness(
            Map.of("SONIA_PIPECAT_MAX_CONNECTIONS_PER_IP", "32", "SONIA_PIPECAT_MAX_WAITING_TURNS", "64"));

    @Test
    void messageGoesToTheGatewayAndTheReplyComesBackAsEvents() throws Exception {
        final String id = newSession();
        final WsClient client = pipecat.ws(id, 0);
        client.send("{\"type\":\"EVENT_TYPE_MESSAGE\",\"message_id\":\"m-1\",\"text\":\"hello\"}");
        final SessionEvent reply = client.await(e -> e.getType() == EventType.EVENT_TYPE_MESSAGE
                                                     && e.getRole().equals("assistant"));
        assertThat(reply.getText()).isEqualTo("echo: hello");
        final SessionEvent user = client.await(e -> e.getMessageId().equals("m-1"));
        assertThat(user.getRole()).isEqualTo("user");
        assertThat(user.getCorrelationId()).isNotEmpty();
        assertThat(user.getTimestamp().getSeconds()).isPositive();
        assertThat(reply.getCorrelationId()).isEqualTo(user.getCorrelationId());
        client.await(e -> e.getType() == EventType.EVENT_TYPE_TURN);
        assertThat(pipecat.gateway.correlationIds).contains(user.getCorrelationId());
        assertThat(pipecat.gateway.requests).anySatisfy(r -> assertThat(r.getSessionId()).isEqualTo(id));

        final Session session = pipecat.blocking().getSession(GetSessionRequest.newBuilder().setSessionId(id).build());
        assertThat(session.getHistoryList()).extracting(h -> h.getRole() + ":" + h.getText())
                                            .containsExactly("user:hello", "assistant:echo: hello");
        client.close();
    }

    @Test
    void aMessageIdSeenTwiceIsProcessedOnce() throws Exception {
        final String id = newSession();
        final WsClient client = pipecat.ws(id, 0);
        final int before = pipecat.gateway.requests.size();
        client.send("{\"type\":\"EVENT_TYPE_MESSAGE\",\"message_id\":\"dup\",\"text\":\"once\"}");
        client.send("{\"event\":{\"type\":\"EVENT_TYPE_MESSAGE\",\"message_id\":\"dup\",\"text\":\"once\"}}");
        client.await(e -> e.getType() == EventType.EVENT_TYPE_STATUS && e.getText().startsWith("duplicate"));
        client.await(e -> e.getType() == EventType.EVENT_TYPE_TURN);
        final WsClient again = pipecat.ws(id, 0);
        again.send("{\"type\":\"EVENT_TYPE_MESSAGE\",\"message_id\":\"dup\",\"text\":\"once\"}");
        again.await(e -> e.getText().startsWith("duplicate"));
        assertThat(client.events.stream().filter(e -> e.getMessageId().equals("dup") && e.getSequence() > 0))
                .hasSize(1);
        assertThat(pipecat.gateway.requests.size() - before).isEqualTo(1);
        client.close();
        again.close();
    }

    @Test
    void reconnectInTheMiddleOfABurstLosesNothingAndDoublesNothing() throws Exception {
        final String id = newSession();
        pipecat.gateway.replyWith(text -> "ok " + text);
        final List<WsClient> senders = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            senders.add(pipecat.ws(id, 0));
        }
        final WsClient watcher = pipecat.ws(id, 0);
        final List<Thread> threads = new ArrayList<>();
        for (int s = 0; s < senders.size(); s++) {
            final WsClient sender = senders.get(s);
            final int n = s;
            threads.add(new Thread(() -> {
                for (int i = 0; i < 10; i++) {
                    sender.send("{\"type\":\"EVENT_TYPE_MESSAGE\",\"message_id\":\"s" + n + "-" + i
                                + "\",\"text\":\"m" + i + "\"}");
                }
            }));
        }
        threads.forEach(Thread::start);
        await().atMost(Duration.ofSeconds(20)).until(() -> watcher.sequences().size() > 10);
        watcher.abort();
        // What the client holds when it goes is its position: a frame its socket still delivers after that
        // is not its to count (the resumed socket replays it).
        final List<Long> before = List.copyOf(watcher.sequences());
        final long last = before.get(before.size() - 1);
        for (Thread t : threads) {
            t.join();
        }
        final WsClient resumed = pipecat.ws(id, last);
        // 30 user messages, 30 replies and 30 turns after SESSION_START and the ACTIVE status: fewer than
        // the 100 events kept for replay are missed while disconnected.
        final long total = 2 + 30 * 3;
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            final List<Long> seqs = resumed.sequences();
            return !seqs.isEmpty() && seqs.get(seqs.size() - 1) == total;
        });
        final List<Long> all = new ArrayList<>(before);
        all.addAll(resumed.sequences());
        final List<Long> expected = new ArrayList<>();
        for (long i = 1; i <= total; i++) {
            expected.add(i);
        }
        assertThat(all).containsExactlyElementsOf(expected);
        final Set<String> userIds = resumed.events.stream().filter(e -> e.getRole().equals("user"))
                                                  .map(SessionEvent::getMessageId).collect(Collectors.toSet());
        watcher.events.stream().filter(e -> e.getRole().equals("user")).forEach(e -> userIds.add(e.getMessageId()));
        assertThat(userIds).hasSize(30);
        senders.forEach(WsClient::close);
        resumed.close();
        pipecat.gateway.replyWith(text -> "echo: " + text);
    }

    @Test
    void reconnectingAfterMoreThanTheReplayBufferSaysWhatIsGone() throws Exception {
        final String id = newSession();
        final WsClient client = pipecat.ws(id, 0);
        for (int i = 0; i < 105; i++) {
            client.send("{\"type\":\"EVENT_TYPE_STATUS\"}");
        }
        // 105 pings add nothing to the stream; 40 messages add 120 events (message, reply, turn).
        for (int i = 0; i < 40; i++) {
            client.send("{\"type\":\"EVENT_TYPE_MESSAGE\",\"text\":\"n" + i + "\"}");
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> client.sequences().size() == 2 + 120);
        final WsClient late = pipecat.ws(id, 1);
        final SessionEvent gap = late.await(e -> e.getText().startsWith("replay_gap"));
        assertThat(gap.getSequence()).isZero();
        await().atMost(Duration.ofSeconds(10)).until(() -> late.sequences().size() == 100);
        assertThat(late.sequences().get(0)).isEqualTo(23L);
        client.close();
        late.close();
    }

    @Test
    void unknownOrClosedSessionCloses4001() throws Exception {
        assertThat(pipecat.ws("no-such-session", 0).awaitClose()).isEqualTo(4001);
        final String id = newSession();
        pipecat.blocking().stopSession(StopSessionRequest.newBuilder().setSessionId(id).build());
        final WsClient closed = pipecat.ws(id, 0);
        assertThat(closed.awaitClose()).isEqualTo(4001);
        assertThat(closed.events).anySatisfy(e -> assertThat(e.getType()).isEqualTo(EventType.EVENT_TYPE_ERROR));
    }

    @Test
    void theSeedsMessageFrameIsAnAliasOfTheClientEvent() throws Exception {
        final String id = newSession();
        final WsClient client = pipecat.ws(id, 0);
        client.send("{\"type\":\"MESSAGE\",\"data\":{\"text\":\"from the seed\",\"message_id\":\"seed-1\"}}");
        assertThat(client.await(e -> e.getRole().equals("assistant")).getText()).isEqualTo("echo: from the seed");
        assertThat(client.await(e -> e.getMessageId().equals("seed-1")).getType())
                .isEqualTo(EventType.EVENT_TYPE_MESSAGE);
        // The same path: the same message id is a duplicate, whichever frame carries it.
        client.send("{\"type\":\"EVENT_TYPE_MESSAGE\",\"message_id\":\"seed-1\",\"text\":\"again\"}");
        client.await(e -> e.getText().startsWith("duplicate"));
        // Other seed types too (a ping), in any case.
        client.send("{\"type\":\"status\",\"data\":{}}");
        client.await(e -> e.getType() == EventType.EVENT_TYPE_STATUS && e.getText().startsWith("state=ACTIVE "));
        client.close();

        for (String frame : List.of("{\"kind\":\"MESSAGE\",\"payload\":{\"text\":\"hi\"}}",
                                    "{\"type\":\"SHOUT\",\"data\":{\"text\":\"hi\"}}",
                                    "{\"type\":\"MESSAGE\",\"data\":{\"txt\":\"hi\"}}", "[1,2]")) {
            final WsClient other = pipecat.ws(newSession(), 0);
            other.send(frame);
            assertThat(other.awaitClose()).as(frame).isEqualTo(1002);
            assertThat(other.events).as(frame).anySatisfy(e -> {
                assertThat(e.getErrorCode()).isEqualTo("INVALID_ARGUMENT");
                assertThat(e.getText()).contains("expected a ConverseRequest or SessionEvent in proto JSON")
                                       .contains("{\"type\":\"MESSAGE\",\"data\":{\"text\":\"hi\"}}")
                                       .doesNotContain("com.google", "Exception");
            });
        }
    }

    @Test
    void malformedFramesClose1002AndUnsupportedOnes1003() throws Exception {
        final WsClient garbage = pipecat.ws(newSession(), 0);
        garbage.send("{not json");
        assertThat(garbage.awaitClose()).isEqualTo(1002);
        assertThat(garbage.events).anySatisfy(e -> {
            assertThat(e.getErrorCode()).isEqualTo("INVALID_ARGUMENT");
            // In the protocol's words, without the JSON library's class names.
            assertThat(e.getText()).contains("not valid JSON").doesNotContain("com.google", "Exception");
        });

        final WsClient unknownField = pipecat.ws(newSession(), 0);
        unknownField.send("{\"type\":\"EVENT_TYPE_MESSAGE\",\"bogus\":1}");
        assertThat(unknownField.awaitClose()).isEqualTo(1002);

        final WsClient serverOnly = pipecat.ws(newSession(), 0);
        serverOnly.send("{\"type\":\"EVENT_TYPE_TTS_AUDIO\"}");
        assertThat(serverOnly.awaitClose()).isEqualTo(1003);

        final WsClient audioInText = pipecat.ws(newSession(), 0);
        audioInText.sendAudio(new byte[640]);
        assertThat(audioInText.awaitClose()).isEqualTo(1003);

        final WsClient badSequence = WsClient.connect(pipecat.port(), newSession(), -1, null, pipecat.token);
        assertThat(badSequence.awaitClose()).isEqualTo(1002);
    }

    @Test
    void sixthConnectionFromOneAddressCloses4029() throws Exception {
        try (PipecatHarness small = new PipecatHarness()) {
            final String id = small.blocking().startSession(StartSessionRequest.getDefaultInstance()).getSessionId();
            final List<WsClient> clients = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                clients.add(small.ws(id, 0));
            }
            clients.forEach(c -> c.await(e -> e.getType() == EventType.EVENT_TYPE_SESSION_START));
            final WsClient sixth = small.ws(id, 0);
            assertThat(sixth.awaitClose()).isEqualTo(4029);
            assertThat(sixth.events).anySatisfy(e -> assertThat(e.getErrorCode()).isEqualTo("RATE_LIMITED"));
            clients.get(0).close();
            clients.get(0).awaitClose();
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                final WsClient again = small.ws(id, 0);
                again.await(e -> e.getType() == EventType.EVENT_TYPE_SESSION_START);
                assertThat(again.closeCode).isNotDone();
                clients.set(0, again);
            });
        }
    }

    @Test
    void eventsBeyondThePerMinuteBudgetAreRefusedWithARetryTime() throws Exception {
        try (PipecatHarness small = new PipecatHarness(Map.of("SONIA_PIPECAT_EVENTS_PER_MINUTE", "5"))) {
            final String id = small.blocking().startSession(StartSessionRequest.getDefaultInstance()).getSessionId();
            final WsClient client = small.ws(id, 0);
            for (int i = 0; i < 5; i++) {
                client.send("{\"type\":\"EVENT_TYPE_STATUS\"}");
            }
            client.send("{\"type\":\"EVENT_TYPE_MESSAGE\",\"message_id\":\"late\",\"text\":\"hello\"}");
            final SessionEvent refused = client.await(e -> e.getErrorCode().equals("RATE_LIMITED"));
            assertThat(refused.getMessageId()).isEqualTo("late");
            assertThat(refused.getSequence()).isZero();
            assertThat(refused.getRetryAfter().getSeconds()).isBetween(0L, 60L);
            assertThat(refused.getRetryAfter().getSeconds() * 1000 + refused.getRetryAfter().getNanos() / 1_000_000)
                    .isPositive();
            assertThat(client.events.stream().filter(e -> e.getType() == EventType.EVENT_TYPE_STATUS
                                                           && e.getText().startsWith("state=ACTIVE last_sequence")))
                    .hasSize(5);
            // Refused, not accepted: the message is not in the stream, and the connection stays open.
            assertThat(client.events).noneMatch(e -> e.getSequence() > 0 && e.getMessageId().equals("late"));
            assertThat(client.closeCode).isNotDone();
            // The budget is per session: another connection to it is refused too.
            final WsClient other = small.ws(id, 0);
            other.send("{\"type\":\"EVENT_TYPE_STATUS\"}");
            other.await(e -> e.getErrorCode().equals("RATE_LIMITED"));
            client.close();
            other.close();
        }
    }

    @Test
    void browserOriginsMustBeAllowedEvenWithAValidToken() throws Exception {
        final String id = newSession();
        assertThatThrownBy(() -> WsClient.connect(pipecat.port(), id, 0, "https://evil.example", pipecat.token))
                .isInstanceOf(ExecutionException.class)
                .cause().isInstanceOfSatisfying(WebSocketHandshakeException.class,
                                                e -> assertThat(e.getResponse().statusCode()).isEqualTo(403));
        assertThatThrownBy(() -> WsClient.connect(pipecat.port(), id, 0, "http://localhost.evil.example",
                                                  pipecat.token))
                .cause().isInstanceOf(WebSocketHandshakeException.class);
        final WsClient local = WsClient.connect(pipecat.port(), id, 0, "http://localhost:5173", pipecat.token);
        local.await(e -> e.getType() == EventType.EVENT_TYPE_SESSION_START);
        local.close();
    }

    @Test
    void gatewayFailureIsAnErrorEventAndTheSessionGoesOn() throws Exception {
        final String id = newSession();
        final WsClient client = pipecat.ws(id, 0);
        pipecat.gateway.replyWith(text -> {
            throw new IllegalStateException("down for maintenance");
        });
        try {
            client.send("{\"type\":\"EVENT_TYPE_MESSAGE\",\"text\":\"anyone?\"}");
            final SessionEvent error = client.await(e -> e.getType() == EventType.EVENT_TYPE_ERROR);
            assertThat(error.getErrorCode()).isEqualTo("UNAVAILABLE");
            assertThat(error.getSequence()).isPositive();
        } finally {
            pipecat.gateway.replyWith(text -> "echo: " + text);
        }
        client.send("{\"type\":\"EVENT_TYPE_MESSAGE\",\"text\":\"back?\"}");
        assertThat(client.await(e -> e.getText().equals("echo: back?")).getRole()).isEqualTo("assistant");
        client.close();
    }

    @Test
    void restartLosesNoSessionHistoryOrReplay() throws Exception {
        try (PipecatHarness durable = new PipecatHarness()) {
            final String id = durable.blocking().startSession(StartSessionRequest.getDefaultInstance())
                                     .getSessionId();
            final WsClient client = durable.ws(id, 0);
            client.send("{\"type\":\"EVENT_TYPE_MESSAGE\",\"message_id\":\"before\",\"text\":\"remember me\"}");
            client.await(e -> e.getType() == EventType.EVENT_TYPE_TURN);
            final List<Long> seen = client.sequences();
            client.abort();
            durable.restart();

            final Session after = durable.blocking().getSession(GetSessionRequest.newBuilder().setSessionId(id).build());
            assertThat(after.getUserId()).isEqualTo(PipecatHarness.USER);
            assertThat(after.getTenant()).isEqualTo(PipecatHarness.TENANT);
            assertThat(after.getLastSequence()).isEqualTo(seen.get(seen.size() - 1));
            assertThat(after.getHistoryList()).extracting(h -> h.getText())
                                              .containsExactly("remember me", "echo: remember me");
            final WsClient replayed = durable.ws(id, 2);
            replayed.await(e -> e.getType() == EventType.EVENT_TYPE_TURN);
            assertThat(replayed.sequences()).containsExactlyElementsOf(seen.subList(2, seen.size()));
            // The message id is still remembered after the restart.
            replayed.send("{\"type\":\"EVENT_TYPE_MESSAGE\",\"message_id\":\"before\",\"text\":\"remember me\"}");
            replayed.await(e -> e.getText().startsWith("duplicate"));
            replayed.send("{\"type\":\"EVENT_TYPE_MESSAGE\",\"text\":\"new\"}");
            final SessionEvent next = replayed.await(e -> e.getText().equals("new"));
            assertThat(next.getSequence()).isEqualTo(seen.get(seen.size() - 1) + 1);
            assertThat(new LinkedHashSet<>(replayed.sequences())).hasSameSizeAs(replayed.sequences());
        }
    }

    @Test
    void anInternalFailureSendsAnErrorAndCloses1011() throws Exception {
        try (PipecatHarness broken = new PipecatHarness()) {
            final String id = broken.blocking().startSession(StartSessionRequest.getDefaultInstance()).getSessionId();
            final WsClient client = broken.ws(id, 0);
            client.await(e -> e.getType() == EventType.EVENT_TYPE_SESSION_START);
            // Break the store under the running server: recording a message id now fails.
            try (java.sql.Connection db = java.sql.DriverManager.getConnection(
                    "jdbc:sqlite:" + broken.config.dataDir("pipecat").resolve("pipecat.db"));
                 java.sql.Statement st = db.createStatement()) {
                st.execute("DROP TABLE seen_messages");
            }
            client.send("{\"type\":\"EVENT_TYPE_MESSAGE\",\"message_id\":\"x\",\"text\":\"hello\"}");
            assertThat(client.awaitClose()).isEqualTo(1011);
            assertThat(client.events).anySatisfy(e -> {
                assertThat(e.getType()).isEqualTo(EventType.EVENT_TYPE_ERROR);
                assertThat(e.getErrorCode()).isEqualTo("INTERNAL_ERROR");
            });
        }
    }

    private static String newSession() {
        return pipecat.blocking().startSession(StartSessionRequest.getDefaultInstance()).getSessionId();
    }
}
