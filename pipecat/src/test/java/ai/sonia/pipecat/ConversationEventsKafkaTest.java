package ai.sonia.pipecat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.google.protobuf.util.JsonFormat;

import com.linecorp.armeria.client.WebClient;

import ai.sonia.pipecat.kafka.KafkaEventPublisher;
import ai.sonia.pipecat.v1.EventType;
import ai.sonia.pipecat.v1.GetSessionRequest;
import ai.sonia.pipecat.v1.SessionEvent;
import ai.sonia.pipecat.v1.StartSessionRequest;

/**
 * Conversation events on a real Kafka broker (in-process, KRaft): every event of a session reaches the topic
 * keyed by session id, in sequence, with its id in a header and in the value; with the broker stopped the
 * session goes on, and once the broker is back on the same port and log directory the consumer has every
 * event, none lost (doubles, if any, dropped by id).
 */
class ConversationEventsKafkaTest {

    private static final String TOPIC = "conversation.events";

    private static KafkaBroker broker;
    private static PipecatHarness pipecat;
    private static KafkaConsumer<String, String> consumer;

    @BeforeAll
    static void start() throws Exception {
        broker = new KafkaBroker(Path.of("target", "kafka"));
        // The broker and the service start side by side; the publisher waits for the broker by itself.
        final CompletableFuture<Void> brokerUp = CompletableFuture.runAsync(broker::start);
        pipecat = new PipecatHarness(Map.of("SONIA_PIPECAT_KAFKA_BOOTSTRAP_SERVERS", broker.bootstrapServers()));
        brokerUp.join();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                                               broker.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(TOPIC, 2, (short) 1))).all().get();
        }
        consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 500,
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class,
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class));
        consumer.assign(List.of(new TopicPartition(TOPIC, 0), new TopicPartition(TOPIC, 1)));
        consumer.seekToBeginning(consumer.assignment());
    }

    @AfterAll
    static void stop() {
        if (consumer != null) {
            consumer.close(Duration.ofSeconds(1));
        }
        final CompletableFuture<Void> brokerDown = CompletableFuture.runAsync(() -> {
            if (broker != null) {
                broker.close();
            }
        });
        if (pipecat != null) {
            pipecat.close();
        }
        brokerDown.join();
    }

    @Test
    void everyEventReachesTheTopicInOrderAndNoneIsLostAcrossABrokerRestart() throws Exception {
        final String id = pipecat.blocking().startSession(StartSessionRequest.getDefaultInstance()).getSessionId();
        final WsClient client = pipecat.ws(id, 0);
        for (int i = 0; i < 3; i++) {
            say(client, "before " + i);
        }
        final Map<String, SessionEvent> received = new LinkedHashMap<>();
        final List<ConsumerRecord<String, String>> records = new ArrayList<>();
        final long firstPart = lastSequence(id);
        consumeUntil(received, records, firstPart);
        // In the order of the session, keyed by it, with the id in a header and in the value.
        assertThat(records).allSatisfy(r -> {
            assertThat(r.key()).isEqualTo(id);
            assertThat(new String(r.headers().lastHeader(KafkaEventPublisher.EVENT_ID).value(),
                                  StandardCharsets.UTF_8)).isEqualTo(parse(r.value()).getMessageId());
        });
        assertThat(records.stream().map(r -> parse(r.value()).getSequence()).toList())
                .containsExactlyElementsOf(range(1, firstPart));
        assertThat(records.stream().map(r -> parse(r.value()).getType()).collect(Collectors.toSet()))
                .contains(EventType.EVENT_TYPE_SESSION_START, EventType.EVENT_TYPE_MESSAGE, EventType.EVENT_TYPE_TURN);
        // The value is the WebSocket's own JSON for the event.
        final SessionEvent firstMessage = client.await(e -> e.getText().equals("before 0"));
        assertThat(received.get(firstMessage.getMessageId())).isEqualTo(firstMessage);

        broker.stop();
        // The session does not notice: its messages are answered and stored.
        for (int i = 0; i < 3; i++) {
            say(client, "during " + i);
        }
        final long total = lastSequence(id);
        assertThat(total).isGreaterThan(firstPart);
        broker.start();
        consumeUntil(received, records, total);
        assertThat(received.values().stream().map(SessionEvent::getSequence).sorted().toList())
                .containsExactlyElementsOf(range(1, total));
        assertThat(received.values()).allSatisfy(e -> assertThat(e.getSessionId()).isEqualTo(id));
        client.close();
        // Nothing was dropped: the publisher is not degraded, and says so where operators look.
        final WebClient rest = pipecat.rest(pipecat.token);
        assertThat(rest.get("/status").aggregate().join().contentUtf8())
                .contains("\"name\":\"kafka\"").doesNotContain("events dropped");
        assertThat(rest.get("/metrics").aggregate().join().contentUtf8())
                .contains("sonia_pipecat_events_kafka_dropped_total 0.0")
                .contains("sonia_pipecat_events_kafka_published_total");
    }

    private static void say(WsClient client, String text) {
        client.send("{\"type\":\"EVENT_TYPE_MESSAGE\",\"text\":\"" + text + "\"}");
        client.await(e -> e.getType() == EventType.EVENT_TYPE_MESSAGE && e.getText().equals("echo: " + text));
    }

    // The session's last sequence once its last turn is stored (the TURN follows the reply).
    private static long lastSequence(String id) {
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            final var session = pipecat.blocking().getSession(GetSessionRequest.newBuilder().setSessionId(id).build());
            return session.getHistoryCount() % 2 == 0 && session.getLastSequence() % 3 == 2;
        });
        return pipecat.blocking().getSession(GetSessionRequest.newBuilder().setSessionId(id).build())
                      .getLastSequence();
    }

    // Polls until events 1..last are in, keeping the first of each id.
    private static void consumeUntil(Map<String, SessionEvent> received, List<ConsumerRecord<String, String>> records,
                                     long last) {
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(10)).until(() -> {
            for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(200))) {
                final SessionEvent event = parse(record.value());
                if (received.putIfAbsent(event.getMessageId(), event) == null) {
                    records.add(record);
                }
            }
            final Set<Long> sequences = received.values().stream().map(SessionEvent::getSequence)
                                                .collect(Collectors.toSet());
            return sequences.containsAll(range(1, last));
        });
    }

    private static SessionEvent parse(String json) {
        try {
            final SessionEvent.Builder event = SessionEvent.newBuilder();
            JsonFormat.parser().merge(json, event);
            return event.build();
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new AssertionError("not an event: " + json, e);
        }
    }

    private static List<Long> range(long from, long to) {
        final List<Long> values = new ArrayList<>();
        for (long i = from; i <= to; i++) {
            values.add(i);
        }
        return values;
    }
}
