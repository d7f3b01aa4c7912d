package ai.sonia.pipecat.domain;

import java.time.Clock;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;
import java.util.function.UnaryOperator;

import com.google.protobuf.Timestamp;
import com.google.protobuf.util.Timestamps;

import ai.sonia.common.v1.Role;
import ai.sonia.pipecat.v1.EventType;
import ai.sonia.pipecat.v1.HistoryEntry;
import ai.sonia.pipecat.v1.Session;
import ai.sonia.pipecat.v1.SessionEvent;
import ai.sonia.pipecat.v1.SessionState;
import ai.sonia.runtime.auth.Principal;
import ai.sonia.runtime.errors.DomainException;

/**
 * A session held in memory while it is in use: its snapshot, its replay buffer and the connections
 * attached to it. Every change happens under its monitor, so sequence numbers are gapless, stored
 * before they are delivered, and delivered to every sink in order.
 *
 * <p>With replicas, other replicas append to the same session: their events arrive through the
 * {@link EventFanout} ({@link #received}). Events go to the sinks strictly one sequence after the other,
 * whichever replica stored them; one that arrives ahead of its predecessors has them read from the store first,
 * and one already delivered is dropped.
 */
public final class LiveSession {

    private final SessionStore store;
    private final EventPublisher publisher;
    private final EventFanout fanout;
    private final Clock clock;
    private final int replayCapacity;
    private final int historyCapacity;
    private final List<EventSink> sinks = new CopyOnWriteArrayList<>();
    private final ArrayDeque<SessionEvent> replay;
    private final TurnLine turns;
    private final Principal owner;
    // Attaches in progress and chat turns waiting for their reply: the session is not unloaded while one is (see
    // Sessions#attach, Conversation#message).
    private final AtomicInteger holds = new AtomicInteger();
    private Session snapshot;
    // The newest sequence kept for replay and delivered to the sinks.
    private long delivered;

    LiveSession(SessionStore store, EventPublisher publisher, EventFanout fanout, Clock clock, Session snapshot,
                int replayCapacity, int historyCapacity, TurnLine turns) {
        this.store = store;
        this.publisher = publisher;
        this.fanout = fanout;
        this.clock = clock;
        this.snapshot = snapshot;
        this.replayCapacity = replayCapacity;
        this.historyCapacity = historyCapacity;
        // Sequences are gapless: the newest events are those after last_sequence - capacity.
        replay = new ArrayDeque<>(store.events(snapshot.getSessionId(),
                                               snapshot.getLastSequence() - replayCapacity));
        delivered = replay.isEmpty() ? snapshot.getLastSequence()
                                     : Math.max(snapshot.getLastSequence(), replay.getLast().getSequence());
        this.turns = turns;
        // A chat turn never needs more than a user's rights, whoever started or attached the session.
        owner = Principal.user(snapshot.getTenant(), snapshot.getUserId(), Role.ROLE_USER);
    }

    public String id() {
        return snapshot.getSessionId();
    }

    /** The user the session belongs to: calls made for the session (chat turns) act for this principal. */
    public Principal owner() {
        return owner;
    }

    /** The session as it stands, without history. */
    public synchronized Session snapshot() {
        return snapshot;
    }

    public synchronized SessionState state() {
        return snapshot.getState();
    }

    /**
     * Assigns the next sequence number, a timestamp, the session id and (when missing) a message id,
     * stores the event, keeps it for replay, delivers it to every attached sink and hands it to the publisher
     * and to the other replicas.
     */
    public synchronized SessionEvent append(SessionEvent.Builder builder) {
        return append(builder, (next, event) -> Optional.of(store.appendEvent(next, event, replayCapacity)))
                .orElseThrow();
    }

    // The steps of every append: the event stamped, written by `write` with the session's next snapshot (empty:
    // nothing written), then this copy's snapshot moved on and the event handed out.
    private Optional<SessionEvent> append(SessionEvent.Builder builder,
                                          BiFunction<Session, SessionEvent, Optional<SessionEvent>> write) {
        final Timestamp now = now();
        if (builder.getMessageId().isEmpty()) {
            builder.setMessageId(UUID.randomUUID().toString());
        }
        final Session next = snapshot.toBuilder().setLastActivityTime(now).build();
        final Optional<SessionEvent> stored = write.apply(next, builder.setSessionId(id()).setTimestamp(now).build());
        stored.ifPresent(event -> {
            snapshot = next.toBuilder().setLastSequence(event.getSequence()).build();
            stored(event);
        });
        return stored;
    }

    /**
     * Closes the session with {@code stop} (its SESSION_STOP event, appended as {@link #append} does), unless the
     * store has it closed already (another replica closed it meanwhile): then nothing is written, this copy takes
     * the stored state and events (that replica's SESSION_STOP among them), and the result is false.
     */
    synchronized boolean close(String reason, SessionEvent.Builder stop) {
        final Timestamp now = now();
        final Session.Builder closed = snapshot.toBuilder().setState(SessionState.SESSION_STATE_CLOSED)
                                               .setUpdateTime(now).setLastActivityTime(now);
        if (!reason.isEmpty()) {
            closed.putMetadata("stop_reason", reason);
        }
        if (stop.getMessageId().isEmpty()) {
            stop.setMessageId(UUID.randomUUID().toString());
        }
        final var event = store.appendClosing(closed.build(), stop.setSessionId(id()).setTimestamp(now).build(),
                                              replayCapacity);
        if (event.isEmpty()) {
            catchUp();
            snapshot = snapshot.toBuilder().setState(SessionState.SESSION_STATE_CLOSED).build();
            return false;
        }
        snapshot = closed.setLastSequence(event.get().getSequence()).build();
        stored(event.get());
        return true;
    }

    // An event this replica stored: to the sinks (after any predecessors not yet delivered), the publisher and the
    // other replicas.
    private void stored(SessionEvent event) {
        advance(event, event.getCorrelationId());
        publisher.publish(event);
        fanout.publish(snapshot, event);
    }

    /**
     * Another replica stored {@code event}, with {@code stored} the session as it stood then: delivered after its
     * predecessors (read from the store when they have not arrived), or dropped when it was delivered already.
     */
    synchronized void received(Session stored, SessionEvent event) {
        if (event.getSequence() <= delivered) {
            return;
        }
        refresh(stored);
        advance(event, event.getCorrelationId());
    }

    /**
     * Reads from the store what other replicas appended since the last event delivered (messages about it may
     * have been lost); false when the session is no longer stored (deleted meanwhile).
     */
    synchronized boolean catchUp() {
        final var stored = store.find(id());
        if (stored.isEmpty()) {
            return false;
        }
        if (stored.get().getLastSequence() > delivered) {
            fill("");
        }
        return true;
    }

    // Takes a snapshot another replica stored, when it is newer than this one.
    private void refresh(Session stored) {
        if (stored.getLastSequence() > snapshot.getLastSequence()) {
            snapshot = stored;
        }
    }

    // Delivers an event already stored, after any of its predecessors not yet delivered.
    private void advance(SessionEvent event, String correlationId) {
        if (event.getSequence() <= delivered) {
            return;
        }
        if (event.getSequence() > delivered + 1) {
            fill(correlationId); // this event too: it was stored before anybody heard of it
        }
        keep(event);
    }

    // Delivers the stored events after the last one delivered, oldest first, and takes the stored snapshot.
    private void fill(String correlationId) {
        store.find(id()).ifPresent(this::refresh);
        final List<SessionEvent> missed = store.events(id(), delivered);
        if (!missed.isEmpty() && missed.get(0).getSequence() > delivered + 1) {
            // Trimmed from the store before this replica saw them: say so, as a replay from too far back does.
            final SessionEvent gap = gap(delivered, missed.get(0).getSequence(), correlationId);
            for (EventSink sink : sinks) {
                sink.deliver(gap);
            }
        }
        missed.forEach(this::keep);
    }

    private void keep(SessionEvent event) {
        if (event.getSequence() <= delivered) {
            return;
        }
        delivered = event.getSequence();
        replay.addLast(event);
        while (replay.size() > replayCapacity) {
            replay.removeFirst();
        }
        for (EventSink sink : sinks) {
            sink.deliver(event);
        }
    }

    // A STATUS for a connection: the events after {@code after} and before {@code firstKept} are gone.
    private SessionEvent gap(long after, long firstKept, String correlationId) {
        return SessionEvent.newBuilder().setType(EventType.EVENT_TYPE_STATUS).setSessionId(id())
                           .setRole("system").setCorrelationId(correlationId).setTimestamp(now())
                           .setText("replay_gap after=" + after + " first_kept=" + firstKept
                                    + "; GetSession has the full history").build();
    }

    /**
     * Attaches a sink: replays every kept event after {@code lastSequence}, then delivers new ones, with
     * nothing between the two lost or doubled. A CREATED session becomes ACTIVE.
     */
    public synchronized void attach(EventSink sink, long lastSequence, String correlationId) {
        if (snapshot.getState() == SessionState.SESSION_STATE_CLOSED) {
            throw invalidTransition(id(), snapshot.getState(), "attach to");
        }
        final long oldestKept = replay.isEmpty() ? delivered + 1 : replay.getFirst().getSequence();
        if (lastSequence + 1 < oldestKept) {
            // Older events are gone: say so instead of pretending the stream is whole.
            sink.deliver(gap(lastSequence, oldestKept, correlationId));
        }
        for (SessionEvent event : replay) {
            if (event.getSequence() > lastSequence) {
                sink.deliver(event);
            }
        }
        sinks.add(sink);
        if (snapshot.getState() == SessionState.SESSION_STATE_CREATED) {
            transition(SessionState.SESSION_STATE_ACTIVE);
            append(SessionEvent.newBuilder().setType(EventType.EVENT_TYPE_STATUS).setRole("system")
                               .setText("state=ACTIVE").setCorrelationId(correlationId));
        }
    }

    /** Stops delivering to a sink. */
    public void detach(EventSink sink) {
        sinks.remove(sink);
    }

    void hold() {
        holds.incrementAndGet();
    }

    void unhold() {
        holds.decrementAndGet();
    }

    boolean held() {
        return holds.get() > 0;
    }

    /** How many connections are attached. */
    public int attached() {
        return sinks.size();
    }

    /** The session's chat turns: one at a time, a few waiting. */
    TurnLine turns() {
        return turns;
    }

    /** Records activity without an event (a STATUS ping), so the inactivity TTL starts over. */
    public synchronized void touch() {
        snapshot = snapshot.toBuilder().setLastActivityTime(now()).build();
        store.save(snapshot);
    }

    /** Records a client message id (of a SESSION_STOP); false when it was seen before. */
    public boolean markSeen(String messageId) {
        return store.markSeen(id(), messageId);
    }

    /**
     * A client's message: appended as {@link #append} does, with its history entry, in one transaction of the
     * store; empty, and nothing written, when the session has seen its message id before. RATE_LIMITED, and
     * nothing written, when its history is full ({@link SessionStore#historyLimit}).
     */
    public synchronized Optional<SessionEvent> appendMessage(SessionEvent.Builder builder) {
        return append(builder, (next, event) -> store.appendMessage(
                next, event, HistoryEntry.newBuilder().setRole(event.getRole()).setText(event.getText())
                                         .setMessageId(event.getMessageId()).setCreateTime(event.getTimestamp())
                                         .build(), replayCapacity, historyCapacity));
    }

    /**
     * RATE_LIMITED ({@link SessionStore#historyLimit}) when the history is full: for a user's turn that is not a
     * client message (a recognized utterance), checked before anything of it is stored.
     */
    public void checkHistoryRoom() {
        if (store.historySize(id()) >= historyCapacity) {
            throw SessionStore.historyLimit(historyCapacity);
        }
    }

    /** Appends to the history. */
    public synchronized void remember(String role, String text, String messageId, boolean interrupted) {
        store.appendHistory(id(), HistoryEntry.newBuilder().setRole(role).setText(text).setMessageId(messageId)
                                              .setCreateTime(now())
                                              .setInterrupted(interrupted).build());
    }

    /** Changes the stored session within {@code scope} (title, metadata) and keeps what was stored. */
    synchronized void update(SessionStore.Scope scope, UnaryOperator<Session> change) {
        snapshot = store.update(scope, id(), change);
    }

    /**
     * The session was deleted from the store: it counts as closed for whatever is still running (a chat turn),
     * and every attached connection is told and let go.
     */
    synchronized void deleted() {
        snapshot = snapshot.toBuilder().setState(SessionState.SESSION_STATE_CLOSED).build();
        for (EventSink sink : sinks) {
            sink.sessionDeleted();
        }
        sinks.clear();
    }

    /** Moves to {@code to} (the caller checked the transition is allowed) and stores it. */
    synchronized void transition(SessionState to) {
        final var now = now();
        snapshot = snapshot.toBuilder().setState(to).setUpdateTime(now).setLastActivityTime(now).build();
        store.save(snapshot);
    }

    /** The session's state does not allow the operation: FAILED_PRECONDITION, reason CONFLICT. */
    static DomainException invalidTransition(String sessionId, SessionState from, String operation) {
        return DomainException.conflict("cannot " + operation + " session " + sessionId + " in state " + from)
                              .with("session_id", sessionId).with("state", from.name()).with("operation", operation);
    }

    private Timestamp now() {
        return Timestamps.fromMillis(clock.millis());
    }
}
