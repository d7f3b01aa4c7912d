package ai.sonia.pipecat.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import ai.sonia.common.v1.Role;
import ai.sonia.pipecat.domain.EventFanout;
import ai.sonia.pipecat.domain.EventPublisher;
import ai.sonia.pipecat.domain.LiveSession;
import ai.sonia.pipecat.domain.SessionStore;
import ai.sonia.pipecat.domain.Sessions;
import ai.sonia.pipecat.store.SqliteSessionStore;
import ai.sonia.pipecat.v1.EventType;
import ai.sonia.pipecat.v1.Session;
import ai.sonia.pipecat.v1.SessionEvent;
import ai.sonia.runtime.auth.Principal;
import ai.sonia.runtime.limits.Bucket4jRateLimiter;
import ai.sonia.runtime.testing.RedisServerExtension;
import redis.clients.jedis.UnifiedJedis;

/** The Redis fan-out itself, on a real {@code redis-server}. */
class RedisEventFanoutTest {

    @RegisterExtension
    static final RedisServerExtension redis = new RedisServerExtension();

    private static final Principal ADA = Principal.user("acme", "ada", Role.ROLE_USER);

    @Test
    void aReplicaHearsTheOthersEventsOfTheSessionsItFollowsAndNotItsOwn() {
        final Heard heardA = new Heard();
        final Heard heardB = new Heard();
        try (RedisEventFanout a = new RedisEventFanout(redis.client());
             RedisEventFanout b = new RedisEventFanout(redis.client())) {
            a.start(heardA);
            b.start(heardB);
            a.follow("s-1");
            b.follow("s-1");
            await().atMost(Duration.ofSeconds(5)).until(() -> heardA.resynced.contains("s-1")
                                                              && heardB.resynced.contains("s-1"));
            final Session snapshot = Session.newBuilder().setSessionId("s-1").setLastSequence(7).build();
            b.publish(snapshot, SessionEvent.newBuilder().setSessionId("s-1").setSequence(7).setText("hi").build());
            b.publish(Session.newBuilder().setSessionId("s-2").build(),
                      SessionEvent.newBuilder().setSessionId("s-2").setSequence(1).build()); // followed by nobody
            b.deleted("s-1");
            await().atMost(Duration.ofSeconds(5)).until(() -> heardA.deleted.contains("s-1"));
            assertThat(heardA.received).containsExactly("s-1:7:hi");
            assertThat(heardB.received).isEmpty();
            assertThat(heardB.deleted).isEmpty();
            assertThat(a.status().getOk()).isTrue();
        }
    }

    @Test
    void anEventStoredByAReplicaThatDiedBeforePublishingArrivesWithinAResyncPeriod() {
        final Path dir = Path.of("target", "fanout-resync-" + UUID.randomUUID());
        try (SqliteSessionStore storeA = SqliteSessionStore.open(dir);
             SqliteSessionStore storeB = SqliteSessionStore.open(dir);
             RedisEventFanout fanoutA = new RedisEventFanout(redis.client(), Duration.ofMillis(100))) {
            final Sessions replicaA = sessions(storeA, fanoutA);
            final Sessions replicaB = sessions(storeB, EventFanout.LOCAL); // publishes nothing, as if it died first
            final String id = replicaB.start(ADA, "", Map.of(), false, "", "c").getSessionId();
            final List<SessionEvent> onA = new CopyOnWriteArrayList<>();
            replicaA.open(ADA, id).attach(onA::add, 0, "c");
            final LiveSession atB = replicaB.open(ADA, id);
            atB.append(SessionEvent.newBuilder().setType(EventType.EVENT_TYPE_MESSAGE).setText("last words"));
            await().atMost(Duration.ofSeconds(5)).until(() -> onA.stream().anyMatch(
                    e -> e.getText().equals("last words")));
            assertThat(onA).extracting(SessionEvent::getSequence).containsExactly(1L, 2L, 3L);
        }
    }

    @Test
    void aListenerThatFailsLeavesTheSharedClientHealthyAndTheFanoutListening() {
        final UnifiedJedis shared = redis.client(); // the JVM's one client: rate limits and revocations use it too
        final AtomicInteger failures = new AtomicInteger();
        final Heard heard = new Heard() {
            @Override
            public void received(Session snapshot, SessionEvent event) {
                if (failures.getAndIncrement() == 0) {
                    throw new IllegalStateException("the store cannot be read now");
                }
                super.received(snapshot, event);
            }
        };
        try (RedisEventFanout a = new RedisEventFanout(shared);
             RedisEventFanout b = new RedisEventFanout(redis.client())) {
            a.start(heard);
            b.start(new Heard());
            a.follow("s-f");
            await().atMost(Duration.ofSeconds(5)).until(() -> heard.resynced.contains("s-f"));
            b.publish(Session.newBuilder().setSessionId("s-f").build(),
                      SessionEvent.newBuilder().setSessionId("s-f").setSequence(1).setText("lost").build());
            await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(1)).until(() -> failures.get() == 1);
            // At once (the fan-out subscribes again within ~20 ms): every pooled connection answers its own command,
            // none is left subscribed.
            for (int i = 0; i < 20; i++) {
                shared.set("fanout-test-" + i, "v" + i);
                assertThat(shared.get("fanout-test-" + i)).isEqualTo("v" + i);
            }
            b.publish(Session.newBuilder().setSessionId("s-f").build(),
                      SessionEvent.newBuilder().setSessionId("s-f").setSequence(2).setText("heard").build());
            await().atMost(Duration.ofSeconds(5)).until(() -> heard.received.contains("s-f:2:heard"));
            assertThat(a.status().getOk()).isTrue();
            // The failure did not end the subscription: it was not made again (which resyncs every followed session).
            assertThat(heard.resynced).containsExactly("s-f");
        }
    }

    private static Sessions sessions(SqliteSessionStore store, EventFanout fanout) {
        return new Sessions(store, EventPublisher.NONE, fanout, Clock.systemUTC(), new SessionStore.Limits(100, 100), 100,
                            new Bucket4jRateLimiter(),
                            1000, 4, Duration.ofHours(1));
    }

    private static class Heard implements EventFanout.Listener {
        final List<String> received = new CopyOnWriteArrayList<>();
        final List<String> deleted = new CopyOnWriteArrayList<>();
        final List<String> resynced = new CopyOnWriteArrayList<>();

        @Override
        public void received(Session snapshot, SessionEvent event) {
            received.add(snapshot.getSessionId() + ':' + event.getSequence() + ':' + event.getText());
        }

        @Override
        public void deleted(String sessionId) {
            deleted.add(sessionId);
        }

        @Override
        public void resync(String sessionId) {
            resynced.add(sessionId);
        }
    }
}
