package ai.sonia.pipecat.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import ai.sonia.common.v1.DependencyStatus;
import ai.sonia.pipecat.PipecatConfig;
import ai.sonia.pipecat.v1.EventType;
import ai.sonia.pipecat.v1.SessionEvent;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/** With no broker to take them, events beyond the buffer are dropped at once: counted, and shown in the status. */
class KafkaEventPublisherTest {

    @Test
    void aFullBufferDropsCountsAndShowsDegradedWithoutBlocking() throws Exception {
        final int nobody = ai.sonia.runtime.testing.FreePorts.pick();
        try (KafkaEventPublisher publisher = new KafkaEventPublisher(
                new PipecatConfig.Kafka("127.0.0.1:" + nobody, "conversation.events", 2, 10), "test")) {
            final SimpleMeterRegistry registry = new SimpleMeterRegistry();
            publisher.bind(registry);
            assertThat(publisher.status().getOk()).isTrue();
            final long start = System.nanoTime();
            for (int i = 1; i <= 10; i++) {
                publisher.publish(SessionEvent.newBuilder().setType(EventType.EVENT_TYPE_MESSAGE).setSessionId("s")
                                              .setSequence(i).setMessageId("m-" + i).build());
            }
            // Handing over never waits for the broker.
            assertThat(System.nanoTime() - start).isLessThan(1_000_000_000L);
            // The sender holds at most one, the buffer two: seven or more are gone.
            assertThat(publisher.dropped()).isGreaterThanOrEqualTo(7);
            assertThat(registry.get("sonia.pipecat.events.kafka.dropped").functionCounter().count())
                    .isEqualTo(publisher.dropped());
            final DependencyStatus status = publisher.status();
            assertThat(status.getName()).isEqualTo("kafka");
            assertThat(status.getOk()).isFalse();
            assertThat(status.getError()).contains("events dropped (buffer of 2 full)");
        }
    }
}
