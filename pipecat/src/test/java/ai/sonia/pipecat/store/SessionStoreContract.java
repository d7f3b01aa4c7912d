package ai.sonia.pipecat.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.LongStream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.google.protobuf.util.Timestamps;

import ai.sonia.common.v1.ErrorCode;
import ai.sonia.pipecat.domain.SessionStore;
import ai.sonia.pipecat.domain.SessionStore.Filter;
import ai.sonia.pipecat.domain.SessionStore.Key;
import ai.sonia.pipecat.v1.EventType;
import ai.sonia.pipecat.v1.HistoryEntry;
import ai.sonia.pipecat.v1.Session;
import ai.sonia.pipecat.v1.SessionEvent;
import ai.sonia.pipecat.v1.SessionState;
import ai.sonia.runtime.errors.DomainException;

/**
 * What every {@link SessionStore} does, whatever it runs on: owners written once and kept apart by tenant
 * and user, event logs whose sequences have no gap and no double however many append at once, replay from a
 * sequence, listings paged by key, and NOT_FOUND for a session that is not there.
 */
public abstract class SessionStoreContract {

    private static final Filter EVERYONE = new Filter(Optional.empty(), Optional.empty(),
                                                      SessionState.SESSION_STATE_UNSPECIFIED);

    protected SessionStore store;

    /** A new, empty store. */
    protected abstract SessionStore newStore() throws Exception;

    @BeforeEach
    void open() throws Exception {
        store = newStore();
    }

    @AfterEach
    void close() {
        store.close();
    }

    @Test
    void findsWhatWasSavedAndNothingElse() {
        final Session saved = session("s-1", "acme", "ada", 1000);
        store.save(saved);
        assertThat(store.find("s-1")).contains(saved);
        assertThat(store.find("nope")).isEmpty();
    }

    @Test
    void aRetriedCreateReturnsTheFirstSessionOfTheSameOwner() {
        final Session first = store.create(session("s-1", "acme", "ada", 1000), "req-1");
        assertThat(store.create(session("s-2", "acme", "ada", 2000), "req-1")).isEqualTo(first);
        assertThat(store.find("s-2")).isEmpty();
        assertThat(store.findByRequest("acme", "ada", "req-1")).contains(first);
        // A request id is its owner's alone.
        assertThat(store.create(session("s-3", "acme", "bob", 3000), "req-1").getSessionId()).isEqualTo("s-3");
        assertThat(store.create(session("s-4", "globex", "ada", 3000), "req-1").getSessionId()).isEqualTo("s-4");
        // Without one, every create is a new session.
        store.create(session("s-5", "acme", "ada", 4000), "");
        store.create(session("s-6", "acme", "ada", 4000), "");
        assertThat(store.findByRequest("acme", "ada", "")).isEmpty();
        assertThat(ids(store.list(filter("acme", "ada"), Optional.empty(), 10))).containsExactly("s-6", "s-5", "s-1");
    }

    @Test
    void creatingAnExistingSessionIsAlreadyExists() {
        store.create(session("s-1", "acme", "ada", 1000), "");
        assertThatThrownBy(() -> store.create(session("s-1", "acme", "ada", 1000), ""))
                .isInstanceOfSatisfying(DomainException.class, e -> {
                    assertThat(e.isAlreadyExists()).isTrue();
                    assertThat(e.code()).isEqualTo(ErrorCode.ERROR_CODE_CONFLICT);
                });
    }

    @Test
    void theOwnerIsWrittenOnceAndNeverChanges() {
        store.save(session("s-1", "acme", "ada", 1000));
        store.save(session("s-1", "globex", "mallory", 1000).toBuilder()
                                                             .setState(SessionState.SESSION_STATE_ACTIVE).build());
        final Session found = store.find("s-1").orElseThrow();
        assertThat(found.getState()).isEqualTo(SessionState.SESSION_STATE_ACTIVE);
        assertThat(found.getTenant()).isEqualTo("acme");
        assertThat(found.getUserId()).isEqualTo("ada");
    }

    @Test
    void listingsKeepTenantsAndUsersApart() {
        store.save(session("a-ada", "acme", "ada", 1000));
        store.save(session("a-bob", "acme", "bob", 2000));
        store.save(session("g-ada", "globex", "ada", 3000));
        assertThat(ids(store.list(filter("acme", "ada"), Optional.empty(), 10))).containsExactly("a-ada");
        assertThat(ids(store.list(filter("acme", null), Optional.empty(), 10))).containsExactly("a-bob", "a-ada");
        assertThat(ids(store.list(filter("globex", "ada"), Optional.empty(), 10))).containsExactly("g-ada");
        assertThat(ids(store.list(filter("initech", null), Optional.empty(), 10))).isEmpty();
        assertThat(ids(store.list(EVERYONE, Optional.empty(), 10))).containsExactly("g-ada", "a-bob", "a-ada");
    }

    @Test
    void listingsFilterByState() {
        store.save(session("open", "acme", "ada", 1000));
        store.save(session("closed", "acme", "ada", 2000).toBuilder()
                                                          .setState(SessionState.SESSION_STATE_CLOSED).build());
        assertThat(ids(store.list(new Filter(Optional.of("acme"), Optional.empty(),
                                             SessionState.SESSION_STATE_CLOSED), Optional.empty(), 10)))
                .containsExactly("closed");
        assertThat(store.countLive()).isEqualTo(1);
    }

    @Test
    void pagesNeitherSkipNorRepeatWhileSessionsAreAdded() {
        // Two sessions share a creation time: the id breaks the tie.
        for (int i = 0; i < 7; i++) {
            store.save(session("s-" + i, "acme", "ada", 1000L * (i / 2 + 1)));
        }
        final List<String> seen = new ArrayList<>();
        Optional<Key> after = Optional.empty();
        int added = 0;
        while (true) {
            final List<Session> page = store.list(EVERYONE, after, 3);
            seen.addAll(ids(page));
            // A newer session arrives between pages: it belongs before the first page, so no later page has it.
            store.save(session("new-" + added++, "acme", "ada", 99_000));
            if (page.size() < 3) {
                break;
            }
            final Session last = page.get(page.size() - 1);
            after = Optional.of(new Key(Timestamps.toMillis(last.getCreateTime()), last.getSessionId()));
        }
        assertThat(seen).containsExactly("s-6", "s-5", "s-4", "s-3", "s-2", "s-1", "s-0");
    }

    @Test
    void concurrentAppendersGetEverySequenceExactlyOnce() throws Exception {
        appendConcurrently(List.of(store));
    }

    /**
     * Appends to one session from several threads spread over {@code replicas} (stores on one database), each
     * from the snapshot it started with, as a replica's session in memory is, with history between: every
     * replica then replays every sequence once, in order, and counts them all.
     */
    protected void appendConcurrently(List<SessionStore> replicas) throws Exception {
        final Session session = session("s-1", "acme", "ada", 1000);
        store.save(session);
        final int appenders = 4;
        final int each = 50;
        final ExecutorService pool = Executors.newFixedThreadPool(appenders);
        try {
            final CountDownLatch start = new CountDownLatch(1);
            final List<Future<List<Long>>> results = new ArrayList<>();
            for (int a = 0; a < appenders; a++) {
                final int appender = a;
                final SessionStore replica = replicas.get(a % replicas.size());
                results.add(pool.submit(() -> {
                    start.await();
                    final List<Long> sequences = new ArrayList<>();
                    for (int i = 0; i < each; i++) {
                        sequences.add(replica.appendEvent(session, event(appender + "-" + i), 1000).getSequence());
                        if (i % 10 == 0) {
                            replica.appendHistory("s-1", HistoryEntry.newBuilder().setText(appender + "-" + i).build());
                        }
                    }
                    return sequences;
                }));
            }
            start.countDown();
            final Set<Long> sequences = new HashSet<>();
            for (Future<List<Long>> result : results) {
                final List<Long> mine = result.get();
                // Each appender sees its own events in the order it appended them.
                assertThat(mine).isSorted();
                sequences.addAll(mine);
            }
            assertThat(sequences).hasSize(appenders * each);
        } finally {
            pool.shutdownNow();
        }
        final List<Long> all = LongStream.rangeClosed(1, appenders * each).boxed().toList();
        for (SessionStore replica : replicas) {
            final List<SessionEvent> log = replica.events("s-1", 0);
            assertThat(log).extracting(SessionEvent::getSequence).containsExactlyElementsOf(all);
            assertThat(log).extracting(SessionEvent::getMessageId).doesNotHaveDuplicates();
            assertThat(log).allSatisfy(e -> assertThat(e.getSessionId()).isEqualTo("s-1"));
            assertThat(replica.events("s-1", 100)).extracting(SessionEvent::getSequence)
                                                  .containsExactlyElementsOf(all.subList(100, all.size()));
            assertThat(replica.find("s-1").orElseThrow().getLastSequence()).isEqualTo(appenders * each);
            assertThat(replica.history("s-1")).hasSize(appenders * each / 10);
        }
    }

    @Test
    void replaysExactlyTheEventsAfterASequence() {
        final Session session = session("s-1", "acme", "ada", 1000);
        store.save(session);
        for (int i = 1; i <= 10; i++) {
            store.appendEvent(session, event("m-" + i), 100);
        }
        assertThat(store.events("s-1", 7)).extracting(SessionEvent::getMessageId)
                                           .containsExactly("m-8", "m-9", "m-10");
        assertThat(store.events("s-1", 10)).isEmpty();
        assertThat(store.events("other", 0)).isEmpty();
    }

    @Test
    void keepsAtLeastTheNewestEventsAndNoGapAmongThem() {
        final Session session = session("s-1", "acme", "ada", 1000);
        store.save(session);
        for (int i = 1; i <= 25; i++) {
            store.appendEvent(session, event("m-" + i), 10);
        }
        final List<Long> kept = store.events("s-1", 0).stream().map(SessionEvent::getSequence).toList();
        assertThat(kept).hasSizeGreaterThanOrEqualTo(10).endsWith(25L);
        assertThat(kept).containsExactlyElementsOf(LongStream.rangeClosed(kept.get(0), 25).boxed().toList());
    }

    @Test
    void createsWithinALimitOfSessionsNotClosed() {
        final SessionStore.Limits two = new SessionStore.Limits(2, 10);
        assertThat(store.createWithin(session("s-1", "acme", "ada", 1000), "r-1", two).getSessionId()).isEqualTo("s-1");
        assertThat(store.createWithin(session("s-2", "acme", "bob", 2000), "", two).getSessionId()).isEqualTo("s-2");
        assertLimit(() -> store.createWithin(session("s-3", "acme", "cy", 3000), "", two), "live_sessions");
        assertThat(store.find("s-3")).isEmpty();
        // A retry of a request that created a session gets it, at the limit too.
        assertThat(store.createWithin(session("s-4", "acme", "ada", 4000), "r-1", two).getSessionId()).isEqualTo("s-1");
        store.save(session("s-2", "acme", "bob", 2000).toBuilder().setState(SessionState.SESSION_STATE_CLOSED).build());
        assertThat(store.createWithin(session("s-3", "acme", "cy", 3000), "", two).getSessionId()).isEqualTo("s-3");
        assertThat(store.countLive()).isEqualTo(2);
    }

    @Test
    void oneUserReachesOnlyItsOwnLimit() {
        final SessionStore.Limits perUserTwo = new SessionStore.Limits(SessionStore.Limits.UNCOUNTED, 2);
        store.createWithin(session("s-1", "acme", "ada", 1000), "", perUserTwo);
        store.createWithin(session("s-2", "acme", "ada", 2000), "r-2", perUserTwo);
        assertLimit(() -> store.createWithin(session("s-3", "acme", "ada", 3000), "", perUserTwo),
                    "live_sessions_per_user");
        assertThat(store.find("s-3")).isEmpty();
        // Another user, and the same user name in another tenant, are not held back; a retry still gets its session.
        assertThat(store.createWithin(session("s-4", "acme", "bob", 4000), "", perUserTwo).getSessionId())
                .isEqualTo("s-4");
        assertThat(store.createWithin(session("s-5", "other", "ada", 5000), "", perUserTwo).getSessionId())
                .isEqualTo("s-5");
        assertThat(store.createWithin(session("s-6", "acme", "ada", 6000), "r-2", perUserTwo).getSessionId())
                .isEqualTo("s-2");
        assertThat(store.countLive("acme", "ada")).isEqualTo(2);
        // A closed session frees its place.
        store.save(session("s-1", "acme", "ada", 1000).toBuilder().setState(SessionState.SESSION_STATE_CLOSED).build());
        assertThat(store.createWithin(session("s-3", "acme", "ada", 3000), "", perUserTwo).getSessionId())
                .isEqualTo("s-3");
    }

    @Test
    void oneUserKeepsAtMostItsLimitOfSessionsInAnyState() {
        final SessionStore.Limits keepTwo = new SessionStore.Limits(SessionStore.Limits.UNCOUNTED, 10, 2,
                                                                    SessionStore.Limits.UNCOUNTED);
        store.createWithin(session("s-1", "acme", "ada", 1000), "", keepTwo);
        store.createWithin(session("s-2", "acme", "ada", 2000), "r-2", keepTwo);
        // A closed session is kept (its history stays readable) and still counts.
        store.save(session("s-1", "acme", "ada", 1000).toBuilder().setState(SessionState.SESSION_STATE_CLOSED).build());
        assertLimit(() -> store.createWithin(session("s-3", "acme", "ada", 3000), "", keepTwo), "sessions_per_user");
        assertThat(store.find("s-3")).isEmpty();
        // Others are not held back; a retry still gets its session.
        assertThat(store.createWithin(session("s-4", "acme", "bob", 4000), "", keepTwo).getSessionId()).isEqualTo("s-4");
        assertThat(store.createWithin(session("s-6", "acme", "ada", 6000), "r-2", keepTwo).getSessionId())
                .isEqualTo("s-2");
        // A deleted session frees its place.
        store.delete(scope("acme", "ada"), "s-1");
        assertThat(store.createWithin(session("s-3", "acme", "ada", 3000), "", keepTwo).getSessionId()).isEqualTo("s-3");
    }

    private static void assertLimit(org.assertj.core.api.ThrowableAssert.ThrowingCallable start, String limit) {
        assertThatThrownBy(start).isInstanceOfSatisfying(DomainException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.ERROR_CODE_RATE_LIMITED);
            assertThat(e.getMessage()).startsWith(limit + " limit reached");
        });
    }

    @Test
    void aSessionIsClosedOnceAndStaysClosed() {
        final Session session = session("s-1", "acme", "ada", 1000);
        store.save(session);
        store.appendEvent(session, event("m-1"), 100);
        final Session closed = session.toBuilder().setState(SessionState.SESSION_STATE_CLOSED).build();
        assertThat(store.appendClosing(closed, event("stop-1"), 100)).map(SessionEvent::getSequence).contains(2L);
        // Closed already (by another replica): nothing written.
        assertThat(store.appendClosing(closed, event("stop-2"), 100)).isEmpty();
        // A copy that has not heard of the close saves its state: the session stays closed.
        store.save(session.toBuilder().setState(SessionState.SESSION_STATE_ACTIVE).build());
        final Session found = store.find("s-1").orElseThrow();
        assertThat(found.getState()).isEqualTo(SessionState.SESSION_STATE_CLOSED);
        assertThat(found.getLastSequence()).isEqualTo(2);
        assertThat(store.events("s-1", 0)).extracting(SessionEvent::getMessageId).containsExactly("m-1", "stop-1");
        assertThat(store.countLive()).isZero();
        assertThatThrownBy(() -> store.appendClosing(closed.toBuilder().setSessionId("nope").build(), event("x"), 100))
                .isInstanceOfSatisfying(DomainException.class, e -> assertNotFound(e, "nope"));
    }

    @Test
    void appendingToAnUnknownSessionIsNotFound() {
        assertThatThrownBy(() -> store.appendEvent(session("nope", "acme", "ada", 1000), event("m"), 100))
                .isInstanceOfSatisfying(DomainException.class, SessionStoreContract::assertNotFound);
        assertThatThrownBy(() -> store.appendHistory("nope", HistoryEntry.newBuilder().setText("hi").build()))
                .isInstanceOfSatisfying(DomainException.class, SessionStoreContract::assertNotFound);
        assertThat(store.find("nope")).isEmpty();
        assertThat(store.events("nope", 0)).isEmpty();
    }

    @Test
    void historyKeepsItsOrderPerSession() {
        store.save(session("s-1", "acme", "ada", 1000));
        store.save(session("s-2", "acme", "ada", 1000));
        store.appendHistory("s-1", HistoryEntry.newBuilder().setText("one").build());
        store.appendHistory("s-2", HistoryEntry.newBuilder().setText("other").build());
        store.appendHistory("s-1", HistoryEntry.newBuilder().setText("two").build());
        assertThat(store.history("s-1")).extracting(HistoryEntry::getText).containsExactly("one", "two");
        assertThat(store.history("s-2")).extracting(HistoryEntry::getText).containsExactly("other");
    }

    @Test
    void aMessageIdIsNewOncePerSession() {
        store.save(session("s-1", "acme", "ada", 1000));
        store.save(session("s-2", "acme", "ada", 1000));
        assertThat(store.markSeen("s-1", "m")).isTrue();
        assertThat(store.markSeen("s-1", "m")).isFalse();
        assertThat(store.markSeen("s-2", "m")).isTrue();
        assertThat(appendMessage("s-1", "m", "hello")).isEmpty(); // one set of ids per session
    }

    @Test
    void aMessageIdIsTakenOncePerSessionWithItsEventAndHistoryEntry() {
        store.save(session("s-1", "acme", "ada", 1000));
        store.save(session("s-2", "acme", "ada", 1000));
        assertThat(appendMessage("s-1", "m", "hello")).isPresent();
        assertThat(appendMessage("s-1", "m", "hello again")).isEmpty(); // nothing written
        assertThat(appendMessage("s-2", "m", "hello")).isPresent();
        assertThat(store.events("s-1", 0)).extracting(SessionEvent::getText).containsExactly("hello");
        assertThat(store.history("s-1")).extracting(HistoryEntry::getText).containsExactly("hello");
        assertThat(store.find("s-1").orElseThrow().getLastSequence()).isEqualTo(1);
        assertThatThrownBy(() -> appendMessage("nope", "m", "hi"))
                .isInstanceOfSatisfying(DomainException.class, SessionStoreContract::assertNotFound);
    }

    private Optional<SessionEvent> appendMessage(String sessionId, String messageId, String text) {
        return appendMessage(sessionId, messageId, text, SessionStore.Limits.UNCOUNTED);
    }

    private Optional<SessionEvent> appendMessage(String sessionId, String messageId, String text, int maxHistory) {
        final Session session = store.find(sessionId).orElse(session(sessionId, "acme", "ada", 1000));
        return store.appendMessage(session, event(messageId).toBuilder().setText(text).build(),
                                   HistoryEntry.newBuilder().setRole("user").setText(text).setMessageId(messageId)
                                               .build(), 100, maxHistory);
    }

    @Test
    void aFullHistoryTakesNoMoreMessagesAndKeepsNothingOfTheRefusedOne() {
        store.save(session("s-1", "acme", "ada", 1000));
        assertThat(appendMessage("s-1", "m-1", "one", 3)).isPresent();
        store.appendHistory("s-1", HistoryEntry.newBuilder().setRole("assistant").setText("reply").build());
        assertThat(appendMessage("s-1", "m-2", "two", 3)).isPresent();
        assertLimit(() -> appendMessage("s-1", "m-3", "three", 3), "history_per_session");
        assertThat(store.history("s-1")).extracting(HistoryEntry::getText).containsExactly("one", "reply", "two");
        assertThat(store.historySize("s-1")).isEqualTo(3);
        assertThat(store.historySize("nope")).isZero();
        assertThat(store.events("s-1", 0)).extracting(SessionEvent::getText).containsExactly("one", "two");
        // The refused message's id was not kept either: the same message is refused again, not taken as a duplicate.
        assertLimit(() -> appendMessage("s-1", "m-3", "three", 3), "history_per_session");
        // Another session of the same user is not full.
        store.save(session("s-2", "acme", "ada", 2000));
        assertThat(appendMessage("s-2", "m-1", "one", 3)).isPresent();
    }

    @Test
    void idleSessionsAreThoseNotClosedAndQuietSinceBefore() {
        store.save(session("quiet", "acme", "ada", 1000));
        store.save(session("busy", "acme", "ada", 5000));
        store.save(session("closed", "acme", "ada", 1000).toBuilder()
                                                          .setState(SessionState.SESSION_STATE_CLOSED).build());
        assertThat(store.idleSince(2000)).containsExactly("quiet");
    }

    @Test
    void anUpdateChangesTheSessionButNeverItsIdOrOwner() {
        store.save(session("s-1", "acme", "ada", 1000));
        final Session updated = store.update(scope("acme", "ada"), "s-1", s -> s.toBuilder().setTitle("plans")
                                                                              .setSessionId("other")
                                                                              .setTenant("globex").build());
        assertThat(updated.getTitle()).isEqualTo("plans");
        assertThat(store.find("s-1")).contains(updated);
        assertThat(updated.getTenant()).isEqualTo("acme");
        assertThat(store.find("other")).isEmpty();
        // The tenant's admin reaches it; a service acting for itself reaches every session.
        assertThat(store.update(scope("acme", null), "s-1", s -> s.toBuilder().setTitle("t2").build()).getTitle())
                .isEqualTo("t2");
        assertThat(store.update(SessionStore.Scope.ALL, "s-1", s -> s.toBuilder().setTitle("t3").build()).getTitle())
                .isEqualTo("t3");
    }

    @Test
    void anotherOwnersSessionIsNotFoundForUpdateAndDeleteAsOneThatDoesNotExist() {
        store.save(session("s-1", "acme", "ada", 1000));
        store.appendEvent(store.find("s-1").orElseThrow(), event("m"), 100);
        for (SessionStore.Scope outsider : List.of(scope("acme", "bob"), scope("globex", "ada"),
                                                     scope("globex", null))) {
            assertThatThrownBy(() -> store.update(outsider, "s-1", s -> s.toBuilder().setTitle("mine").build()))
                    .isInstanceOfSatisfying(DomainException.class, e -> assertNotFound(e, "s-1"));
            assertThatThrownBy(() -> store.delete(outsider, "s-1"))
                    .isInstanceOfSatisfying(DomainException.class, e -> assertNotFound(e, "s-1"));
        }
        assertThatThrownBy(() -> store.delete(scope("acme", "ada"), "nope"))
                .isInstanceOfSatisfying(DomainException.class, SessionStoreContract::assertNotFound);
        assertThatThrownBy(() -> store.update(scope("acme", "ada"), "nope", s -> s))
                .isInstanceOfSatisfying(DomainException.class, SessionStoreContract::assertNotFound);
        // Nothing changed.
        assertThat(store.find("s-1").orElseThrow().getTitle()).isEmpty();
        assertThat(store.events("s-1", 0)).hasSize(1);
    }

    @Test
    void aDeletedSessionIsGoneWithItsHistoryEventsAndSeenIds() {
        final Session first = store.create(session("s-1", "acme", "ada", 1000), "req-1");
        store.save(session("s-2", "acme", "ada", 2000));
        for (String id : List.of("s-1", "s-2")) {
            appendMessage(id, "m", "hi " + id);
        }
        store.delete(scope("acme", "ada"), first.getSessionId());
        assertThat(store.find("s-1")).isEmpty();
        assertThat(store.history("s-1")).isEmpty();
        assertThat(store.events("s-1", 0)).isEmpty();
        assertThat(store.findByRequest("acme", "ada", "req-1")).isEmpty();
        assertThat(ids(store.list(EVERYONE, Optional.empty(), 10))).containsExactly("s-2");
        assertThatThrownBy(() -> store.delete(scope("acme", "ada"), "s-1"))
                .isInstanceOfSatisfying(DomainException.class, e -> assertNotFound(e, "s-1"));
        // The other session keeps everything.
        assertThat(store.history("s-2")).hasSize(1);
        assertThat(store.events("s-2", 0)).hasSize(1);
        assertThat(appendMessage("s-2", "m", "again")).isEmpty();
    }

    private static SessionStore.Scope scope(String tenant, String user) {
        return new SessionStore.Scope(Optional.ofNullable(tenant), Optional.ofNullable(user));
    }

    private static void assertNotFound(DomainException e) {
        assertNotFound(e, "nope");
    }

    // Exactly what an unknown session is: nothing says that it exists.
    private static void assertNotFound(DomainException e, String sessionId) {
        assertThat(e.code()).isEqualTo(ErrorCode.ERROR_CODE_NOT_FOUND);
        assertThat(e).hasMessage("session not found: " + sessionId);
        assertThat(e.metadata()).containsExactlyEntriesOf(java.util.Map.of("session_id", sessionId));
    }

    private static Session session(String id, String tenant, String user, long createMs) {
        return Session.newBuilder().setSessionId(id).setTenant(tenant).setUserId(user)
                      .setState(SessionState.SESSION_STATE_CREATED)
                      .setCreateTime(Timestamps.fromMillis(createMs)).setUpdateTime(Timestamps.fromMillis(createMs))
                      .setLastActivityTime(Timestamps.fromMillis(createMs)).build();
    }

    private static SessionEvent event(String messageId) {
        return SessionEvent.newBuilder().setType(EventType.EVENT_TYPE_MESSAGE).setMessageId(messageId)
                           .setText(messageId).build();
    }

    private static Filter filter(String tenant, String user) {
        return new Filter(Optional.of(tenant), Optional.ofNullable(user), SessionState.SESSION_STATE_UNSPECIFIED);
    }

    private static List<String> ids(List<Session> sessions) {
        return sessions.stream().map(Session::getSessionId).toList();
    }
}
