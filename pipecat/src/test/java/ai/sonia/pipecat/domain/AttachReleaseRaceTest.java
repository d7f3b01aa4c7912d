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
import ai.sonia.pipecat.v1.Session;
import ai.sonia.pipecat.v1.SessionEvent;
import ai.sonia.runtime.auth.Principal;
import ai.sonia.runtime.limits.Bucket4jRateLimiter;

/**
 * A connection that leaves while another attaches to the same session: the one attaching must end on the copy of the
 * session this replica holds (the one appends and the fan-out reach), never on one unloaded under it. The leaving
 * connection is closed from inside the attach (while the session's kept events are replayed to the new one), the
 * window between the lookup and the attach, every time.
 */
class AttachReleaseRaceTest {

    private static final Principal ADA = Principal.user("acme", "ada", Role.ROLE_USER);

    private final SqliteSessionStore store =
            SqliteSessionStore.open(Path.of("target", "attach-race-" + UUID.randomUUID()));
    private final Sessions sessions = new Sessions(store, EventPublisher.NONE, EventFanout.LOCAL, Clock.systemUTC(),
                                                   new SessionStore.Limits(100, 100), 100, new Bucket4jRateLimiter(), 1000, 4, Duration.ofMinutes(30));

    @AfterEach
    void close() {
        store.close();
    }

    @Test
    void aConnectionLeavingDuringAnAttachDoesNotStrandTheNewOne() {
        final String id = sessions.start(ADA, "", Map.of(), false, "", "c").getSessionId();
        final EventSink first = event -> {};
        final LiveSession atFirst = sessions.attach(ADA, id, first, 0, "c"); // 1 SESSION_START, 2 state=ACTIVE

        final List<SessionEvent> second = new CopyOnWriteArrayList<>();
        final LiveSession atSecond = sessions.attach(ADA, id, event -> {
            if (second.isEmpty()) {
                // The first connection goes away, as Conversation#closed does.
                atFirst.detach(first);
                sessions.release(atFirst);
            }
            second.add(event);
        }, 0, "c");

        assertThat(sessions.open(ADA, id)).isSameAs(atSecond);
        sessions.update(ADA, Session.newBuilder().setSessionId(id).setTitle("renamed").build(), List.of("title"), "c");
        assertThat(second).extracting(SessionEvent::getText).contains("updated title");
    }
}
