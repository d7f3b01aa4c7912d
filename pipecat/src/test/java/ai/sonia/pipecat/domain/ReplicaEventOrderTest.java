package ai.sonia.pipecat.domain;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import ai.sonia.common.v1.Role;
import ai.sonia.pipecat.store.SqliteSessionStore;
import ai.sonia.pipecat.v1.EventType;
import ai.sonia.pipecat.v1.Session;
import ai.sonia.pipecat.v1.SessionEvent;
import ai.sonia.runtime.auth.Principal;
import ai.sonia.runtime.limits.Bucket4jRateLimiter;

/**
 * What a replica makes of the fan-out's messages, whatever becomes of them on the way: two {@link Sessions} on one
 * SQLite file, joined by a wire the test drives by hand (it loses, reorders and repeats messages). The sink
 * attached on replica A gets every event once, in sequence, the missing ones read from the store.
 */
class ReplicaEventOrderTest {

    private static final Principal ADA = Principal.user("acme", "ada", Role.ROLE_USER);

    private final Path dir = Path.of("target", "replica-order-" + UUID.randomUUID());
    private final SqliteSessionStore storeA = SqliteSessionStore.open(dir);
    private final SqliteSessionStore storeB = SqliteSessionStore.open(dir);
    private final Wire toA = new Wire();
    private final Wire toB = new Wire();
    private final Sessions replicaA = sessions(storeA, toB, toA);
    private final Sessions replicaB = sessions(storeB, toA, toB);

    @AfterEach
    void close() {
        storeA.close();
        storeB.close();
    }

    @Test
    void lostReorderedAndRepeatedMessagesStillGiveEveryEventOnceInSequence() {
        final String id = replicaB.start(ADA, "", Map.of(), false, "", "c").getSessionId();
        final List<SessionEvent> onA = new CopyOnWriteArrayList<>();
        final LiveSession atA = replicaA.open(ADA, id);
        atA.attach(onA::add, 0, "c"); // SESSION_START (1) replayed; A makes it ACTIVE (2)
        final LiveSession atB = replicaB.open(ADA, id);
        toB.deliverAll();
        for (int i = 3; i <= 6; i++) {
            atB.append(message("m" + i));
        }
        assertThat(sequences(onA)).containsExactly(1L, 2L);

        toA.deliver(4); // ahead of 3: what the store has after 2 is read, in order
        assertThat(sequences(onA)).containsExactly(1L, 2L, 3L, 4L, 5L, 6L);
        toA.deliver(3); // late: dropped
        toA.deliver(6); // again: dropped
        assertThat(sequences(onA)).containsExactly(1L, 2L, 3L, 4L, 5L, 6L);

        // 7 and 8 are lost; the subscription is made again: A reads them from the store.
        atB.append(message("m7"));
        atB.append(message("m8"));
        toA.listener.resync(id);
        assertThat(sequences(onA)).containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L);

        // B appends 9, unheard of at A; A appends 10 itself: 9 comes first.
        atB.append(message("m9"));
        assertThat(atA.append(message("m10")).getSequence()).isEqualTo(10);
        assertThat(sequences(onA)).containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L);
        assertThat(onA).extracting(SessionEvent::getText).contains("m3", "m8", "m9", "m10");
        // B's snapshot follows: it knows of A's 10 once told.
        toB.deliverAll();
        assertThat(atB.snapshot().getLastSequence()).isEqualTo(10);
    }

    @Test
    void aSessionDeletedThroughOneReplicaEndsTheConnectionsOfTheOther() {
        final String id = replicaB.start(ADA, "", Map.of(), false, "", "c").getSessionId();
        final List<String> endings = new CopyOnWriteArrayList<>();
        replicaA.open(ADA, id).attach(new EventSink() {
            @Override
            public void deliver(SessionEvent event) {}

            @Override
            public void sessionDeleted() {
                endings.add("deleted");
            }
        }, 0, "c");
        replicaB.delete(ADA, id, "c");
        toA.deliverAll();
        assertThat(endings).containsExactly("deleted");
    }

    private Sessions sessions(SessionStore store, Wire out, Wire in) {
        final Sessions sessions = new Sessions(store, EventPublisher.NONE, new EventFanout() {
            @Override
            public void start(Listener listener) {
                in.listener = listener;
            }

            @Override
            public void follow(String sessionId) {}

            @Override
            public void unfollow(String sessionId) {}

            @Override
            public void publish(Session snapshot, SessionEvent event) {
                out.messages.add(new Message(snapshot, event, null));
            }

            @Override
            public void deleted(String sessionId) {
                out.messages.add(new Message(null, null, sessionId));
            }
        }, Clock.systemUTC(), new SessionStore.Limits(100, 100), 100, new Bucket4jRateLimiter(), 1000, 4,
           Duration.ofHours(1));
        return sessions;
    }

    private static SessionEvent.Builder message(String text) {
        return SessionEvent.newBuilder().setType(EventType.EVENT_TYPE_MESSAGE).setRole("user").setText(text);
    }

    private static List<Long> sequences(List<SessionEvent> events) {
        return events.stream().map(SessionEvent::getSequence).toList();
    }

    private record Message(Session snapshot, SessionEvent event, String deleted) {}

    /** Messages published by one replica, handed to the other only when the test says. */
    private static final class Wire {
        final List<Message> messages = new CopyOnWriteArrayList<>();
        EventFanout.Listener listener;

        void deliver(long sequence) {
            messages.stream().filter(m -> m.event() != null && m.event().getSequence() == sequence).findFirst()
                    .ifPresent(m -> listener.received(m.snapshot(), m.event()));
        }

        void deliverAll() {
            for (Message m : messages) {
                if (m.deleted() != null) {
                    listener.deleted(m.deleted());
                } else {
                    listener.received(m.snapshot(), m.event());
                }
            }
            messages.clear();
        }
    }
}
