package ai.sonia.pipecat.kafka;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.google.protobuf.util.Timestamps;

import ai.sonia.common.v1.DependencyStatus;
import ai.sonia.pipecat.PipecatConfig;
import ai.sonia.pipecat.domain.EventJson;
import ai.sonia.pipecat.domain.EventPublisher;
import ai.sonia.pipecat.v1.SessionEvent;
import ai.sonia.runtime.Threads;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Publishes every session event to a Kafka topic, keyed by session id (so one session's events stay in one
 * partition, in order), at least once: {@code acks=all}, an idempotent producer that retries until the broker
 * takes the record. The value is the event as the contract's JSON, exactly the WebSocket's text frame; its
 * {@code message_id} (unique within the session) is the event's id, in the value and in the {@value #EVENT_ID}
 * header, for consumers to drop the doubles a retry can make. Order within a session follows {@code sequence}.
 *
 * <p>Publishing never blocks or fails a session: {@link #publish} only offers the event to a bounded buffer,
 * which one sender thread hands to the producer. A send the producer gives up on with a retriable error (the
 * broker unreachable for longer than it waits for metadata) is sent again. When the buffer is full the event is
 * dropped, counted ({@code sonia.pipecat.events.kafka.dropped} on /metrics) and {@code /status} shows the
 * publisher degraded, as it does while events wait unacknowledged longer than {@code stallSeconds}.
 */
public final class KafkaEventPublisher implements EventPublisher {

    /** The header holding the event's id (its {@code message_id}). */
    public static final String EVENT_ID = "event_id";

    private static final Logger logger = LoggerFactory.getLogger(KafkaEventPublisher.class);
    private static final long RETRY_PAUSE_MILLIS = 200;

    private final Producer<String, String> producer;
    private final String servers;
    private final String topic;
    private final int capacity;
    private final Duration stall;
    private final BlockingQueue<SessionEvent> buffer;
    // Sends the producer gave up on, sent again before anything newer.
    private final ConcurrentLinkedQueue<SessionEvent> retries = new ConcurrentLinkedQueue<>();
    private final AtomicLong published = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicLong unacknowledged = new AtomicLong();
    // Nanos of the last acknowledgement, or of the moment events started waiting with none outstanding.
    private volatile long progressNanos = System.nanoTime();
    private volatile String lastError = "";
    private final Thread sender;
    private volatile boolean closed;

    public KafkaEventPublisher(PipecatConfig.Kafka config, String clientId) {
        servers = config.bootstrapServers();
        topic = config.topic();
        capacity = config.buffer();
        stall = Duration.ofSeconds(config.stallSeconds());
        buffer = new LinkedBlockingQueue<>(capacity);
        producer = new KafkaProducer<>(Map.ofEntries(
                Map.entry(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, servers),
                Map.entry(ProducerConfig.CLIENT_ID_CONFIG, clientId),
                Map.entry(ProducerConfig.ACKS_CONFIG, "all"),
                Map.entry(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true),
                Map.entry(ProducerConfig.RETRIES_CONFIG, Integer.MAX_VALUE),
                // Retried inside the producer, in order, for as long as it takes; the buffer bounds the rest.
                Map.entry(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, Integer.MAX_VALUE),
                Map.entry(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 5),
                // Waiting for a broker that is away happens on the sender thread only, a few seconds at a time.
                Map.entry(ProducerConfig.MAX_BLOCK_MS_CONFIG, 5_000),
                Map.entry(ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 1_000),
                Map.entry(ProducerConfig.LINGER_MS_CONFIG, 5),
                Map.entry(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class),
                Map.entry(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class)));
        sender = Threads.factory("pipecat-kafka").newThread(this::run);
        sender.start();
        logger.atInfo().addKeyValue("topic", topic).addKeyValue("bootstrap_servers", servers)
              .log("Publishing conversation events to Kafka");
    }

    @Override
    public void publish(SessionEvent event) {
        if (closed) {
            return;
        }
        if (unacknowledged.getAndIncrement() == 0) {
            progressNanos = System.nanoTime();
        }
        if (!buffer.offer(event)) {
            unacknowledged.decrementAndGet();
            final long count = dropped.incrementAndGet();
            if (Long.bitCount(count) == 1) {
                // The first drop, then at powers of two: visible, without a line per event.
                logger.atWarn().addKeyValue("dropped", count).addKeyValue("buffer", capacity)
                      .log("Kafka event buffer full: events dropped");
            }
        }
    }

    /** Puts the publisher's counters on {@code registry}. */
    public void bind(MeterRegistry registry) {
        FunctionCounter.builder("sonia.pipecat.events.kafka.published", published, AtomicLong::get)
                       .description("Session events acknowledged by Kafka").register(registry);
        FunctionCounter.builder("sonia.pipecat.events.kafka.dropped", dropped, AtomicLong::get)
                       .description("Session events dropped: the Kafka buffer was full").register(registry);
        FunctionCounter.builder("sonia.pipecat.events.kafka.failed", failed, AtomicLong::get)
                       .description("Session events Kafka refused for good (not retriable)").register(registry);
        Gauge.builder("sonia.pipecat.events.kafka.pending", unacknowledged, AtomicLong::get)
             .description("Session events not yet acknowledged by Kafka").register(registry);
    }

    /**
     * The publisher as a dependency of {@code /status}: ok unless events were dropped or refused, or some wait
     * unacknowledged longer than {@code stallSeconds}.
     */
    public DependencyStatus status() {
        final long pending = unacknowledged.get();
        final long waitingNanos = pending > 0 ? System.nanoTime() - progressNanos : 0;
        final List<String> problems = new java.util.ArrayList<>();
        if (dropped.get() > 0) {
            problems.add(dropped.get() + " events dropped (buffer of " + capacity + " full)");
        }
        if (failed.get() > 0) {
            problems.add(failed.get() + " events refused by Kafka: " + lastError);
        }
        if (waitingNanos > stall.toNanos()) {
            problems.add(pending + " events unacknowledged for " + TimeUnit.NANOSECONDS.toSeconds(waitingNanos)
                         + " s" + (lastError.isEmpty() ? "" : ": " + lastError));
        }
        return DependencyStatus.newBuilder().setName("kafka").setTarget(servers + "/" + topic)
                               .setOk(problems.isEmpty()).setError(String.join("; ", problems))
                               .setCheckTime(Timestamps.fromMillis(Instant.now().toEpochMilli())).build();
    }

    /** Events dropped because the buffer was full. */
    public long dropped() {
        return dropped.get();
    }

    @Override
    public void close() {
        closed = true;
        // Closing the producer first ends a send that waits for a broker.
        producer.close(Duration.ofSeconds(2));
        try {
            sender.join(1_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void run() {
        while (!closed) {
            SessionEvent event = retries.poll();
            try {
                if (event == null) {
                    event = buffer.poll(100, TimeUnit.MILLISECONDS);
                } else {
                    // Something failed just now: do not spin.
                    Thread.sleep(RETRY_PAUSE_MILLIS);
                }
            } catch (InterruptedException e) {
                return;
            }
            if (event != null) {
                send(event);
            }
        }
    }

    private void send(SessionEvent event) {
        final ProducerRecord<String, String> record = new ProducerRecord<>(
                topic, null, event.getSessionId(), EventJson.print(event),
                List.of(new RecordHeader(EVENT_ID, event.getMessageId().getBytes(StandardCharsets.UTF_8))));
        try {
            producer.send(record, (metadata, error) -> acknowledged(event, error));
        } catch (RuntimeException e) {
            acknowledged(event, e);
        }
    }

    private void acknowledged(SessionEvent event, Exception error) {
        if (error != null && closed) {
            return; // shutting down: what is not acknowledged now is not, and nobody is told otherwise
        }
        if (error == null) {
            published.incrementAndGet();
            unacknowledged.decrementAndGet();
            progressNanos = System.nanoTime();
            lastError = "";
            return;
        }
        lastError = error.getClass().getSimpleName() + ": " + error.getMessage();
        if (error instanceof RetriableException && !closed) {
            retries.add(event);
            return;
        }
        unacknowledged.decrementAndGet();
        failed.incrementAndGet();
        logger.atError().addKeyValue("session_id", event.getSessionId()).addKeyValue("sequence", event.getSequence())
              .setCause(error).log("Kafka refused a session event");
    }
}
