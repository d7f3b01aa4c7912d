package ai.sonia.pipecat.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import ai.sonia.common.v1.ErrorCode;
import ai.sonia.common.v1.Role;
import ai.sonia.pipecat.store.PostgresSessionStore;
import ai.sonia.pipecat.v1.EventType;
import ai.sonia.pipecat.v1.SessionEvent;
import ai.sonia.pipecat.v1.SessionState;
import ai.sonia.runtime.auth.Principal;
import ai.sonia.runtime.errors.DomainException;
import ai.sonia.runtime.limits.Bucket4jRateLimiter;
import ai.sonia.runtime.testing.EmbeddedPostgresExtension;
import ai.sonia.runtime.testing.MutableClock;

/**
 * Two replicas' {@link Sessions} on one PostgreSQL, without a fan-out (each copy of a session as far behind as it
 * can be): both inactivity sweeps find one idle session and close it, and exactly one SESSION_STOP is stored and
 * reaches the connections of both replicas, once; the live-session limit is one limit across both.
 */
class SessionsAcrossReplicasTest {

    @RegisterExtension
    static final EmbeddedPostgresExtension postgres = new EmbeddedPostgresExtension();

    private static final Principal ADA = Principal.user("acme", "ada", Role.ROLE_USER);
    private static final Duration TTL = Duration.ofMinutes(30);
    private static final int MAX_LIVE = 2;

    private final MutableClock clock = new MutableClock();
    private final PostgresSessionStore storeA = PostgresSessionStore.open(postgres.settings());
    private final PostgresSessionStore storeB = PostgresSessionStore.open(postgres.settings());
    private final Sessions replicaA = sessions(storeA);
    private final Sessions replicaB = sessions(storeB);

    @BeforeEach
    void empty() {
        postgres.execute("TRUNCATE pipecat_sessions, pipecat_events, pipecat_history, pipecat_seen_messages");
    }

    @AfterEach
    void close() {
        storeA.close();
        storeB.close();
    }

    @Test
    void bothSweepsCloseAnIdleSessionOnceWithOneStop() {
        final String id = replicaA.start(ADA, "", Map.of(), false, "", "c").getSessionId();
        final List<SessionEvent> onA = new CopyOnWriteArrayList<>();
        final List<SessionEvent> onB = new CopyOnWriteArrayList<>();
        replicaA.open(ADA, id).attach(onA::add, 0, "c"); // 1 SESSION_START, 2 state=ACTIVE
        replicaB.open(ADA, id).attach(onB::add, 0, "c");
        clock.advance(TTL.plusMinutes(1));

        // Both sweeps found it idle; A closes it first, then B (whose copy still says ACTIVE) tries.
        assertThat(storeB.idleSince(clock.millis() - TTL.toMillis())).containsExactly(id);
        assertThat(replicaA.expireIdle()).isEqualTo(1);
        replicaB.stop(id, "inactivity", "ttl");
        assertThat(replicaB.expireIdle()).isZero();

        assertThat(storeB.events(id, 0)).extracting(SessionEvent::getType)
                                         .containsExactly(EventType.EVENT_TYPE_SESSION_START,
                                                          EventType.EVENT_TYPE_STATUS,
                                                          EventType.EVENT_TYPE_SESSION_STOP);
        for (List<SessionEvent> connection : List.of(onA, onB)) {
            assertThat(connection).extracting(SessionEvent::getSequence).containsExactly(1L, 2L, 3L);
            assertThat(connection.get(2).getType()).isEqualTo(EventType.EVENT_TYPE_SESSION_STOP);
        }
        assertThat(storeA.find(id).orElseThrow().getState()).isEqualTo(SessionState.SESSION_STATE_CLOSED);
        assertThat(storeA.find(id).orElseThrow().getMetadataMap()).containsEntry("stop_reason", "inactivity");
    }

    @Test
    void theLiveSessionLimitIsOneAcrossReplicasWhicheverClosesASession() {
        final String first = replicaA.start(ADA, "", Map.of(), false, "", "c").getSessionId();
        replicaB.start(ADA, "", Map.of(), false, "", "c");
        for (Sessions replica : List.of(replicaA, replicaB)) {
            assertThatThrownBy(() -> replica.start(ADA, "", Map.of(), false, "", "c"))
                    .isInstanceOfSatisfying(DomainException.class,
                                            e -> assertThat(e.code()).isEqualTo(ErrorCode.ERROR_CODE_RATE_LIMITED));
            assertThat(replica.liveCount()).isEqualTo(MAX_LIVE);
        }
        // Started through A, closed through B: A may start one again.
        replicaB.stop(ADA, first, "done", "c");
        assertThat(replicaA.liveCount()).isEqualTo(1);
        assertThat(replicaA.start(ADA, "", Map.of(), false, "", "c").getState())
                .isEqualTo(SessionState.SESSION_STATE_CREATED);
    }

    private Sessions sessions(SessionStore store) {
        return new Sessions(store, EventPublisher.NONE, EventFanout.LOCAL, clock, new SessionStore.Limits(MAX_LIVE, MAX_LIVE), 100,
                            new Bucket4jRateLimiter(),
                            1000, 4, TTL);
    }
}
