package ai.sonia.pipecat.domain;

import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.google.protobuf.util.Timestamps;

import ai.sonia.common.v1.ErrorCode;
import ai.sonia.pipecat.v1.EventType;
import ai.sonia.pipecat.v1.ListSessionsResponse;
import ai.sonia.pipecat.v1.Session;
import ai.sonia.pipecat.v1.SessionEvent;
import ai.sonia.pipecat.v1.SessionState;
import ai.sonia.runtime.auth.Principal;
import ai.sonia.runtime.errors.DomainException;
import ai.sonia.runtime.limits.RateLimiter;
import ai.sonia.runtime.paging.PageTokens;

/**
 * The sessions: their state machine (CREATED → ACTIVE ⇄ PAUSED → CLOSED), the live-session limit and
 * the inactivity TTL. Sessions in use stay in memory as {@link LiveSession}s; the store has them all.
 *
 * <p>A session belongs to the user who started it, in that user's tenant. Only a principal that
 * {@linkplain Principal#owns owns} it (that user, an admin of the tenant, a service acting for itself)
 * can reach it by id; to anybody else it is NOT_FOUND, exactly like a session that does not exist.
 */
public final class Sessions {

    private static final Logger logger = LoggerFactory.getLogger(Sessions.class);
    private static final int DEFAULT_PAGE_SIZE = 50;
    private static final int MAX_PAGE_SIZE = 1000;
    private static final int MAX_REQUEST_ID = 128;
    private static final int MAX_TITLE = 200;
    private static final int UNLOAD_STRIPES = 64;
    private static final Set<String> UPDATABLE = Set.of("title", "metadata", "state");
    private static final String LIMITER_UNAVAILABLE =
            "the shared rate limiter (Redis) is unavailable: the session's event budget cannot be checked, so the event"
            + " was not accepted; send it again later";

    private final SessionStore store;
    private final EventPublisher publisher;
    private final EventFanout fanout;
    private final Clock clock;
    private final SessionStore.Limits limits;
    private final int replayEvents;
    private final RateLimiter limiter;
    private final RateLimiter.Limit eventsPerSession;
    private final int maxWaitingTurns;
    private final Duration ttl;
    private final Map<String, LiveSession> loaded = new ConcurrentHashMap<>();
    // Copies unloaded so far, counted by stripes of session ids: a load that read a session from the store before a
    // copy of it was unloaded reads it again (see #load).
    private final AtomicLongArray unloads = new AtomicLongArray(UNLOAD_STRIPES);
    // Kept apart from LiveSession so that a session unloaded between connections keeps its turns in line (and,
    // in the limiter, its event budget).
    private final Map<String, TurnLine> turns = new ConcurrentHashMap<>();
    private final AtomicInteger live;
    // Whether the last budget check failed (the shared limiter unreachable): an outage is logged once, not per event.
    private final AtomicBoolean limiterDown = new AtomicBoolean();

    /**
     * {@code publisher} gets every event this replica stores, in order per session; {@code fanout} carries them to
     * the other replicas and theirs here ({@link EventFanout#LOCAL} for one replica).
     */
    public Sessions(SessionStore store, EventPublisher publisher, EventFanout fanout, Clock clock,
                    SessionStore.Limits limits, int replayEvents, RateLimiter limiter, int eventsPerMinute,
                    int maxWaitingTurns, Duration ttl) {
        this.store = store;
        this.publisher = publisher;
        this.fanout = fanout;
        this.clock = clock;
        this.limits = limits;
        this.replayEvents = replayEvents;
        this.limiter = limiter;
        eventsPerSession = new RateLimiter.Limit(eventsPerMinute, Duration.ofMinutes(1));
        this.maxWaitingTurns = maxWaitingTurns;
        this.ttl = ttl;
        live = new AtomicInteger(store.countLive());
        fanout.start(new EventFanout.Listener() {
            @Override
            public void received(Session snapshot, SessionEvent event) {
                final LiveSession session = loaded.get(event.getSessionId());
                if (session != null) {
                    session.received(snapshot, event);
                }
            }

            @Override
            public void deleted(String sessionId) {
                final LiveSession session = loaded.get(sessionId);
                if (session != null) {
                    session.deleted();
                    unload(sessionId, session);
                }
            }

            @Override
            public void resync(String sessionId) {
                final LiveSession session = loaded.get(sessionId);
                if (session != null && !session.catchUp()) {
                    deleted(sessionId);
                }
            }
        });
    }

    /**
     * Starts a session of {@code owner} in state CREATED; RATE_LIMITED when its owner has {@code limits.perUser()}
     * sessions not closed, or all users {@code limits.total()}.
     * A requested user other than the owner is PERMISSION_DENIED, and so is a service acting for itself:
     * a session belongs to a user.
     */
    public Session start(Principal owner, String requestedUser, Map<String, String> metadata, boolean voice,
                         String requestId, String correlationId) {
        if (owner.isService()) {
            throw DomainException.permissionDenied("a session belongs to a user: call acting for one");
        }
        if (!requestedUser.isEmpty() && !requestedUser.equals(owner.subject())) {
            throw DomainException.permissionDenied("user_id " + requestedUser + " is not you; leave it empty");
        }
        if (requestId.length() > MAX_REQUEST_ID) {
            throw DomainException.invalidArgument("request_id", "at most " + MAX_REQUEST_ID + " characters");
        }
        if (!requestId.isEmpty()) {
            final var first = store.findByRequest(owner.tenant(), owner.subject(), requestId);
            if (first.isPresent()) {
                return current(first.get());
            }
        }
        // One replica counts its own starts and stops; replicas sharing a store count the store's open sessions, in
        // the step that creates one (the limit is the service's, whichever replica closes a session).
        final boolean shared = store.shared();
        if (!shared && live.incrementAndGet() > limits.total()) {
            live.decrementAndGet();
            throw SessionStore.liveLimit(SessionStore.TOTAL, limits.total());
        }
        final var now = Timestamps.fromMillis(clock.millis());
        final Session session = Session.newBuilder()
                                       .setSessionId(UUID.randomUUID().toString())
                                       .setState(SessionState.SESSION_STATE_CREATED)
                                       .setUserId(owner.subject()).setTenant(owner.tenant())
                                       .setCreateTime(now).setUpdateTime(now).setLastActivityTime(now)
                                       .putAllMetadata(metadata).setVoice(voice)
                                       .build();
        final Session stored;
        try {
            // The owner's own limit is counted in the store, in the step that creates the session.
            stored = store.createWithin(session, requestId, shared ? limits : limits.perUserOnly());
        } catch (RuntimeException e) {
            if (!shared) {
                live.decrementAndGet();
            }
            throw e;
        }
        if (!stored.getSessionId().equals(session.getSessionId())) {
            // A retry of the same request that ran beside the first: the first session it is.
            if (!shared) {
                live.decrementAndGet();
            }
            return current(stored);
        }
        final LiveSession created = load(session.getSessionId());
        created.append(SessionEvent.newBuilder().setType(EventType.EVENT_TYPE_SESSION_START).setRole("system")
                                   .setCorrelationId(correlationId));
        return created.snapshot();
    }

    /** A session with its history; NOT_FOUND when unknown or not the principal's. */
    public Session get(Principal principal, String sessionId) {
        return withHistory(owned(principal, sessionId));
    }

    /**
     * A page of the principal's sessions, newest first: a user's own, all of the tenant's for its admin,
     * all for a service acting for itself.
     */
    public ListSessionsResponse list(Principal principal, int pageSize, String pageToken, SessionState state) {
        final int size = PageTokens.pageSize(pageSize, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
        final SessionStore.Scope scope = scope(principal);
        final Optional<String> tenant = scope.tenant();
        final Optional<String> user = scope.userId();
        final String query = "ListSessions tenant=" + tenant.orElse("*") + " user=" + user.orElse("*")
                             + " state=" + state.name();
        final Optional<SessionStore.Key> after = PageTokens.after(pageToken, query).map(Sessions::key);
        final List<Session> page = store.list(new SessionStore.Filter(tenant, user, state), after, size + 1);
        final ListSessionsResponse.Builder response = ListSessionsResponse.newBuilder();
        page.stream().limit(size).forEach(s -> response.addSessions(current(s)));
        if (page.size() > size) {
            final Session last = page.get(size - 1);
            response.setNextPageToken(PageTokens.next(query, List.of(
                    String.valueOf(Timestamps.toMillis(last.getCreateTime())), last.getSessionId())));
        }
        return response.build();
    }

    // A token of ours for this query holds [create_ms, session_id].
    private static SessionStore.Key key(List<String> key) {
        try {
            if (key.size() == 2) {
                return new SessionStore.Key(Long.parseLong(key.get(0)), key.get(1));
            }
        } catch (NumberFormatException e) {
            // Refused below, as any token that is not ours.
        }
        throw DomainException.invalidArgument("page_token", "not a token from a previous response");
    }

    /** ACTIVE → PAUSED. */
    public Session pause(Principal principal, String sessionId, String correlationId) {
        return move(owned(principal, sessionId).getSessionId(), SessionState.SESSION_STATE_ACTIVE,
                    SessionState.SESSION_STATE_PAUSED, "pause", correlationId);
    }

    /** PAUSED → ACTIVE. */
    public Session resume(Principal principal, String sessionId, String correlationId) {
        return move(owned(principal, sessionId).getSessionId(), SessionState.SESSION_STATE_PAUSED,
                    SessionState.SESSION_STATE_ACTIVE, "resume", correlationId);
    }

    /** Any state → CLOSED; stopping a closed session returns it unchanged (the method is idempotent). */
    public Session stop(Principal principal, String sessionId, String reason, String correlationId) {
        return stop(owned(principal, sessionId).getSessionId(), reason, correlationId);
    }

    // For callers that checked ownership already (an attached conversation) or act for the service (the TTL).
    // Closing is one conditional step in the store: of replicas stopping one session at once (their TTL sweeps, say),
    // exactly one closes it and appends its SESSION_STOP; the others take that as they find it.
    Session stop(String sessionId, String reason, String correlationId) {
        final LiveSession session = load(sessionId);
        final boolean closedHere;
        synchronized (session) {
            if (session.state() == SessionState.SESSION_STATE_CLOSED) {
                return withHistory(session.snapshot());
            }
            closedHere = session.close(reason, SessionEvent.newBuilder().setType(EventType.EVENT_TYPE_SESSION_STOP)
                                                           .setRole("system").setText(reason)
                                                           .setCorrelationId(correlationId));
        }
        if (closedHere) {
            live.decrementAndGet();
        }
        unload(sessionId, session);
        turns.remove(sessionId);
        forgetBudget(sessionId);
        return withHistory(session.snapshot());
    }

    /**
     * Changes a session's title, metadata or state (see {@code UpdateSession} in the contract): the fields
     * {@code paths} names, or without paths those of {@code patch} that are set. State moves through the state
     * machine ({@link #pause}, {@link #resume}); a state equal to the current one changes nothing. Every change
     * is a STATUS event of the session ({@code updated title,metadata}) and a log line.
     */
    public Session update(Principal principal, Session patch, List<String> paths, String correlationId) {
        final String sessionId = patch.getSessionId();
        final Session current = owned(principal, sessionId);
        final Set<String> fields = paths.isEmpty() ? impliedPaths(patch) : new LinkedHashSet<>(paths);
        for (String path : fields) {
            if (!UPDATABLE.contains(path) && !(path.startsWith("metadata.") && path.length() > "metadata.".length())) {
                throw DomainException.invalidArgument("update_mask", path + " (expected: title, metadata,"
                                                                     + " metadata.<key> or state)");
            }
        }
        if (patch.getTitle().length() > MAX_TITLE) {
            throw DomainException.invalidArgument("session.title", "at most " + MAX_TITLE + " characters");
        }
        final SessionState state = patch.getState();
        if (fields.contains("state") && state != current.getState()) {
            switch (state) {
                case SESSION_STATE_PAUSED -> pause(principal, sessionId, correlationId);
                case SESSION_STATE_ACTIVE -> resume(principal, sessionId, correlationId);
                default -> throw DomainException.invalidArgument(
                        "session.state", state + " (expected: SESSION_STATE_PAUSED or SESSION_STATE_ACTIVE;"
                                         + " StopSession closes a session)");
            }
        }
        final List<String> details = fields.stream().filter(path -> !path.equals("state")).toList();
        final LiveSession session = load(sessionId);
        if (!details.isEmpty()) {
            session.update(scope(principal), stored -> {
                final Session.Builder next = stored.toBuilder()
                                                   .setUpdateTime(Timestamps.fromMillis(clock.millis()));
                for (String path : details) {
                    if (path.equals("title")) {
                        next.setTitle(patch.getTitle());
                    } else if (path.equals("metadata")) {
                        next.clearMetadata().putAllMetadata(patch.getMetadataMap());
                    } else {
                        final String key = path.substring("metadata.".length());
                        if (patch.containsMetadata(key)) {
                            next.putMetadata(key, patch.getMetadataOrThrow(key));
                        } else {
                            next.removeMetadata(key);
                        }
                    }
                }
                return next.build();
            });
            session.append(SessionEvent.newBuilder().setType(EventType.EVENT_TYPE_STATUS).setRole("system")
                                       .setText("updated " + String.join(",", details))
                                       .setCorrelationId(correlationId));
        }
        logger.atInfo().addKeyValue("session_id", sessionId).addKeyValue("by", principal.subject())
              .addKeyValue("fields", String.join(",", fields)).addKeyValue("correlation_id", correlationId)
              .log("Session updated");
        final Session updated = withHistory(session.snapshot());
        if (updated.getState() == SessionState.SESSION_STATE_CLOSED) {
            release(session);
        }
        return updated;
    }

    // Without an update mask: the fields of the patch that are set (AIP-134).
    private static Set<String> impliedPaths(Session patch) {
        final Set<String> paths = new LinkedHashSet<>();
        if (!patch.getTitle().isEmpty()) {
            paths.add("title");
        }
        if (patch.getMetadataCount() > 0) {
            paths.add("metadata");
        }
        if (patch.getState() != SessionState.SESSION_STATE_UNSPECIFIED) {
            paths.add("state");
        }
        return paths;
    }

    /**
     * Deletes a session with its history, events and seen message ids; a live one is closed first, and every
     * connection attached to it ends ({@link EventSink#sessionDeleted}). Afterwards it is NOT_FOUND.
     */
    public void delete(Principal principal, String sessionId, String correlationId) {
        owned(principal, sessionId);
        final LiveSession session = load(sessionId);
        final boolean wasLive;
        synchronized (session) {
            wasLive = session.state() != SessionState.SESSION_STATE_CLOSED;
            store.delete(scope(principal), sessionId);
            session.deleted();
        }
        fanout.deleted(sessionId);
        if (wasLive) {
            live.decrementAndGet();
        }
        unload(sessionId, session);
        turns.remove(sessionId);
        forgetBudget(sessionId);
        logger.atInfo().addKeyValue("session_id", sessionId).addKeyValue("by", principal.subject())
              .addKeyValue("correlation_id", correlationId).log("Session deleted");
    }

    // Whose sessions the principal reaches: a user its own, an admin its tenant's, a service acting for itself all.
    private static SessionStore.Scope scope(Principal principal) {
        return new SessionStore.Scope(principal.isService() ? Optional.empty() : Optional.of(principal.tenant()),
                                      principal.isService() || principal.isAdmin() ? Optional.empty()
                                                                                   : Optional.of(principal.subject()));
    }

    /**
     * Attaches {@code sink} to a live session (see {@link LiveSession#attach}) and returns it; NOT_FOUND when unknown
     * or not the principal's (checked first, so a closed session of somebody else does not show), INVALID_TRANSITION
     * when closed.
     *
     * <p>The session is looked up and held in one step, so a connection leaving meanwhile cannot unload it between the
     * lookup and the attach: the sink always ends on the copy this replica holds, the one the fan-out feeds.
     *
     * <p>On a store other replicas share, the session held here is first brought up to what the store holds: its copy
     * may be behind (a fan-out message lost, a resync not yet run, no fan-out at all), and the store is the log, so an
     * attach replays everything stored before it, then what comes after.
     */
    public LiveSession attach(Principal principal, String sessionId, EventSink sink, long lastSequence,
                              String correlationId) {
        final LiveSession session = open(principal, sessionId, true);
        try {
            session.attach(sink, lastSequence, correlationId);
        } finally {
            session.unhold();
            release(session); // unless attached
        }
        return session;
    }

    /** The live session {@link #attach} would attach to, with its errors, without attaching. */
    public LiveSession open(Principal principal, String sessionId) {
        return open(principal, sessionId, false);
    }

    private LiveSession open(Principal principal, String sessionId, boolean hold) {
        final LiveSession session = load(owned(principal, sessionId).getSessionId(), hold);
        try {
            if (store.shared() && !session.catchUp()) {
                // Deleted through another replica, and this one has not heard of it yet.
                session.deleted();
                unload(sessionId, session);
                throw SessionStore.notFound(sessionId);
            }
            if (session.state() == SessionState.SESSION_STATE_CLOSED) {
                unload(sessionId, session);
                throw LiveSession.invalidTransition(sessionId, session.state(), "attach to");
            }
        } catch (RuntimeException e) {
            if (hold) {
                session.unhold();
            }
            throw e;
        }
        return session;
    }

    /** Closes every session idle for longer than the TTL; returns how many. */
    public int expireIdle() {
        final List<String> idle = store.idleSince(clock.millis() - ttl.toMillis());
        for (String id : idle) {
            logger.atInfo().addKeyValue("session_id", id).log("Closing session idle for more than {}", ttl);
            try {
                stop(id, "inactivity", "ttl");
            } catch (DomainException e) {
                // Deleted since it was found idle: nothing left to close.
            }
        }
        return idle.size();
    }

    /** How many sessions are not closed (of the whole service, on a store replicas share). */
    public int liveCount() {
        return store.shared() ? store.countLive() : live.get();
    }

    /** Forgets the in-memory state of a session nobody is attached to (it stays in the store). */
    public void release(LiveSession session) {
        unload(session.id(), session, true);
    }

    private void unload(String sessionId, LiveSession session) {
        unload(sessionId, session, false);
    }

    // Forgets a session held in memory (unless another took its place, or it is in use and {@code onlyIdle}) and stops
    // following its events. In use is checked in the step that forgets it: held first, as an attach adds its sink
    // before it lets go.
    private void unload(String sessionId, LiveSession session, boolean onlyIdle) {
        loaded.computeIfPresent(sessionId, (id, held) -> {
            if (held != session || onlyIdle && (session.held() || session.attached() > 0)) {
                return held;
            }
            fanout.unfollow(id);
            unloads.incrementAndGet(unloadStripe(id));
            return null;
        });
    }

    private Session move(String sessionId, SessionState from, SessionState to, String operation,
                         String correlationId) {
        final LiveSession session = load(sessionId);
        synchronized (session) {
            if (session.state() != from) {
                throw LiveSession.invalidTransition(sessionId, session.state(), operation);
            }
            session.transition(to);
            session.append(SessionEvent.newBuilder().setType(EventType.EVENT_TYPE_STATUS).setRole("system")
                                       .setText("state=" + to.name().substring("SESSION_STATE_".length()))
                                       .setCorrelationId(correlationId));
            return withHistory(session.snapshot());
        }
    }

    // The session as it stands, if the principal owns it; NOT_FOUND otherwise, as if it did not exist.
    private Session owned(Principal principal, String sessionId) {
        requireId(sessionId);
        final LiveSession inMemory = loaded.get(sessionId);
        final Session session = inMemory != null ? inMemory.snapshot() : store.find(sessionId).orElse(null);
        if (session == null || !principal.owns(session.getTenant(), session.getUserId())) {
            throw SessionStore.notFound(sessionId);
        }
        return session;
    }

    private Session withHistory(Session session) {
        return session.toBuilder().addAllHistory(store.history(session.getSessionId())).build();
    }

    private Session current(Session stored) {
        final LiveSession inMemory = loaded.get(stored.getSessionId());
        return inMemory != null ? inMemory.snapshot() : stored;
    }

    /**
     * 0 when a client event of the session fits in its per-minute budget; otherwise milliseconds until it would.
     * UNAVAILABLE (ErrorInfo metadata {@code engine} {@code redis}) when the budget cannot be checked, the shared
     * limiter being unreachable: the event is not accepted then (fail closed), and the next one is checked again.
     */
    public long tryAcquireEvent(String sessionId) {
        final long seconds;
        try {
            seconds = limiter.tryTake(sessionId, eventsPerSession);
        } catch (RuntimeException e) {
            if (limiterDown.compareAndSet(false, true)) {
                logger.atWarn().addKeyValue("engine", "redis").setCause(e)
                      .log("Event budgets cannot be checked: client events are refused until the limiter answers");
            }
            throw DomainException.of(ErrorCode.ERROR_CODE_UNAVAILABLE, LIMITER_UNAVAILABLE, Map.of("engine", "redis"));
        }
        if (limiterDown.compareAndSet(true, false)) {
            logger.atInfo().addKeyValue("engine", "redis").log("Event budgets can be checked again");
        }
        return seconds * 1000;
    }

    // The budget of a session that takes no more events (closed, deleted): forgotten, or, when the shared limiter
    // cannot be reached, left to expire by itself; either way the stop or delete, stored already, stands.
    private void forgetBudget(String sessionId) {
        try {
            limiter.reset(sessionId);
        } catch (RuntimeException e) {
            logger.atWarn().addKeyValue("session_id", sessionId).addKeyValue("engine", "redis")
                  .log("Cannot reset the event budget of a closed session (it expires by itself): {}", e.toString());
        }
    }

    private static void requireId(String sessionId) {
        if (sessionId.isEmpty()) {
            throw DomainException.invalidArgument("session_id", "required");
        }
    }

    private LiveSession load(String sessionId) {
        return load(sessionId, false);
    }

    // The session held here, loaded from the store when it is not; with {@code hold}, held (not unloaded by a release)
    // from the same step, until LiveSession#unhold.
    //
    // The store is read before the step that puts the copy in the map, never inside it: a read there would block every
    // other session of its bin in the map for as long as it takes. A copy read while another copy of the session was
    // unloaded (which wrote what it changed first) may be stale; it is dropped and the store read again, as when the
    // copy looked up vanished before that step.
    private LiveSession load(String sessionId, boolean hold) {
        requireId(sessionId);
        while (true) {
            final LiveSession existing = loaded.get(sessionId);
            if (existing != null && !hold) {
                return existing;
            }
            final int stripe = unloadStripe(sessionId);
            final long unloadsBefore = unloads.get(stripe);
            final LiveSession read = existing != null ? null : read(sessionId);
            final LiveSession session = loaded.compute(sessionId, (id, held) -> {
                LiveSession use = held;
                if (use == null) {
                    if (read == null || unloads.get(stripe) != unloadsBefore) {
                        return null; // read again
                    }
                    use = read;
                    // What other replicas append from now on comes here; the fan-out resyncs (reads the store) once it
                    // listens, so what they appended since the store was read is not missed either. Followed in this
                    // step, so it is ordered with the unfollow of a copy unloaded before.
                    fanout.follow(id);
                }
                if (hold) {
                    use.hold();
                }
                return use;
            });
            if (session != null) {
                return session;
            }
        }
    }

    // A copy of the session as the store has it (NOT_FOUND when it has none), not yet in the map.
    private LiveSession read(String sessionId) {
        final Session stored = store.find(sessionId).orElseThrow(() -> SessionStore.notFound(sessionId));
        return new LiveSession(store, publisher, fanout, clock, stored, replayEvents, limits.historyPerSession(),
                               turns.computeIfAbsent(sessionId, unused -> new TurnLine(maxWaitingTurns)));
    }

    private static int unloadStripe(String sessionId) {
        return sessionId.hashCode() & (UNLOAD_STRIPES - 1);
    }
}
