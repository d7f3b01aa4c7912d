package ai.sonia.pipecat.domain;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;

import ai.sonia.common.v1.ErrorCode;
import ai.sonia.pipecat.v1.HistoryEntry;
import ai.sonia.pipecat.v1.Session;
import ai.sonia.pipecat.v1.SessionEvent;
import ai.sonia.pipecat.v1.SessionState;
import ai.sonia.runtime.errors.DomainException;

/**
 * Where sessions live: each session's snapshot and owner, its history, its event log (sequence numbers from
 * 1, gapless, the newest kept for replay) and the client message ids it has seen. Every implementation
 * passes {@code SessionStoreContract}. An unknown session is NOT_FOUND where a method needs one.
 */
public interface SessionStore extends AutoCloseable {

    /**
     * Saves a new session, unless {@code requestId} is not empty and its owner started one with the same
     * request id before: then nothing is saved and that first session is returned. ALREADY_EXISTS when a
     * session with its id exists.
     */
    Session create(Session session, String requestId);

    /**
     * As {@link #create}, unless its owner has {@code limits.perUser()} sessions not closed already, or (unless
     * {@link Limits#UNCOUNTED}) all users {@code limits.total()}, or its owner keeps {@code limits.keptPerUser()}
     * sessions in any state: then nothing is saved, RATE_LIMITED ({@link #liveLimit}, {@link #keptLimit}). A retry
     * of a request that created a session still returns that session. Counted and created in one step, one start
     * at a time among the replicas sharing the store.
     */
    Session createWithin(Session session, String requestId, Limits limits);

    /**
     * What one user, and all of them, may hold: sessions open at once (in all, and of one user), sessions one user
     * keeps in any state (closed ones stay until deleted), and history entries of one session. The last two bound
     * what one self-registered user can write to the disk every other user's sessions live on.
     */
    record Limits(int total, int perUser, int keptPerUser, int historyPerSession) {

        /** A limit the store does not count (one replica counts its own starts in memory; the stores' own tests). */
        public static final int UNCOUNTED = Integer.MAX_VALUE;

        /** Only the open sessions counted. */
        public Limits(int total, int perUser) {
            this(total, perUser, UNCOUNTED, UNCOUNTED);
        }

        /** The same but the total, which is not counted. */
        public Limits perUserOnly() {
            return new Limits(UNCOUNTED, perUser, keptPerUser, historyPerSession);
        }
    }

    /** RATE_LIMITED: {@code limit} ({@code live_sessions} or {@code live_sessions_per_user}) reached. */
    static DomainException liveLimit(String limit, int max) {
        final String what = limit.equals(PER_USER) ? "you have " + max + " sessions open; stop one (StopSession) first"
                                                   : max + " sessions are open";
        return DomainException.of(ErrorCode.ERROR_CODE_RATE_LIMITED, limit + " limit reached: " + what,
                                  Map.of("limit", limit, "max", String.valueOf(max)));
    }

    /** RATE_LIMITED: the owner keeps {@code max} sessions. */
    static DomainException keptLimit(int max) {
        return DomainException.of(ErrorCode.ERROR_CODE_RATE_LIMITED, KEPT_PER_USER + " limit reached: you keep " + max
                                  + " sessions; delete ones you no longer need (DeleteSession) first",
                                  Map.of("limit", KEPT_PER_USER, "max", String.valueOf(max)));
    }

    /** RATE_LIMITED: the session's history holds {@code max} entries. */
    static DomainException historyLimit(int max) {
        return DomainException.of(ErrorCode.ERROR_CODE_RATE_LIMITED, HISTORY + " limit reached: this session holds "
                                  + max + " messages; start a new session",
                                  Map.of("limit", HISTORY, "max", String.valueOf(max)));
    }

    /** The name of the per-user limit in a RATE_LIMITED refusal. */
    String PER_USER = "live_sessions_per_user";

    /** The name of the service's limit in a RATE_LIMITED refusal. */
    String TOTAL = "live_sessions";

    /** The name of the limit on the sessions one user keeps. */
    String KEPT_PER_USER = "sessions_per_user";

    /** The name of the limit on one session's history. */
    String HISTORY = "history_per_session";

    /** The session its owner started with this (non-empty) request id. */
    Optional<Session> findByRequest(String tenant, String userId, String requestId);

    /**
     * Inserts or replaces a session (its history is kept apart). Its owner (tenant, user) is written once,
     * when the session is first saved, and never changes after. CLOSED is final: a closed session stays closed
     * whatever is saved over it (a replica's copy that has not heard of the close).
     */
    void save(Session session);

    /** A session without its history; its owner is the one written when it was first saved. */
    Optional<Session> find(String sessionId);

    /**
     * Changes a session within {@code scope}: reads it, applies {@code change} (which keeps its id and owner) and
     * saves the result, in one step; returns what was saved. NOT_FOUND when it does not exist or is outside the
     * scope, exactly alike.
     */
    Session update(Scope scope, String sessionId, UnaryOperator<Session> change);

    /**
     * Removes a session within {@code scope} with everything it has: history, events, seen message ids (its
     * request id is free again). NOT_FOUND when it does not exist or is outside the scope, exactly alike.
     */
    void delete(Scope scope, String sessionId);

    /** Appends one entry to a session's history. */
    void appendHistory(String sessionId, HistoryEntry entry);

    /** A session's history, oldest first. */
    List<HistoryEntry> history(String sessionId);

    /** How many entries a session's history holds (0 for an unknown session). */
    int historySize(String sessionId);

    /**
     * Appends an event to the session's log and returns it as stored: its sequence is one more than the
     * last one of the session (from 1), whoever else appends at the same time. The session's snapshot
     * ({@code session} with that sequence as its {@code last_sequence}) is saved in the same transaction.
     * Only the newest {@code keep} events (at least) are kept for replay.
     */
    SessionEvent appendEvent(Session session, SessionEvent event, int keep);

    /**
     * Closes a session: appends {@code event} (its SESSION_STOP) as {@link #appendEvent} does, with {@code closed}
     * (its state CLOSED) as the snapshot, unless the stored session is closed already (through another replica,
     * say): then nothing is written and the result is empty. Of replicas closing one session at once, exactly one
     * closes it. NOT_FOUND for an unknown session.
     */
    Optional<SessionEvent> appendClosing(Session closed, SessionEvent event, int keep);

    /**
     * Whether other replicas write to this store too (PostgreSQL): a session held in memory may then be behind it,
     * so an attach reads the store before it replays. False for a store of one replica (a SQLite file).
     */
    default boolean shared() {
        return false;
    }

    /** The kept events of a session after {@code afterSequence}, oldest first. */
    List<SessionEvent> events(String sessionId, long afterSequence);

    /** Records a client message id (of a SESSION_STOP); false when the session had already seen it. */
    boolean markSeen(String sessionId, String messageId);

    /**
     * A client's message: records its message id, appends {@code event} as {@link #appendEvent} does and its
     * {@code entry} to the history, all in one transaction; empty, and nothing written, when the session has seen
     * that message id before. A store that fails part-way keeps none of it, so the client's resend is taken.
     * RATE_LIMITED ({@link #historyLimit}), and nothing written, when the history holds {@code maxHistory}
     * entries already.
     */
    Optional<SessionEvent> appendMessage(Session session, SessionEvent event, HistoryEntry entry, int keep,
                                         int maxHistory);

    /** Sessions matching {@code filter}, newest first (then by id, descending), after {@code after}. */
    List<Session> list(Filter filter, Optional<Key> after, int limit);

    /** How many sessions are not closed. */
    int countLive();

    /** How many sessions of one user are not closed. */
    int countLive(String tenant, String userId);

    /** Ids of sessions not closed whose last activity is before {@code beforeMs}. */
    List<String> idleSince(long beforeMs);

    @Override
    void close();

    /** What every store throws for an unknown session: NOT_FOUND, exactly as a session of somebody else. */
    static DomainException notFound(String sessionId) {
        return DomainException.of(ErrorCode.ERROR_CODE_NOT_FOUND, "session not found: " + sessionId,
                                  Map.of("session_id", sessionId));
    }

    /** Whose sessions a call may reach: of one tenant and one user when given. */
    record Scope(Optional<String> tenant, Optional<String> userId) {
        /** Every session: a service acting for itself. */
        public static final Scope ALL = new Scope(Optional.empty(), Optional.empty());

        /** Whether a session of this owner is in the scope. */
        public boolean includes(String sessionTenant, String sessionUser) {
            return tenant.map(sessionTenant::equals).orElse(true) && userId.map(sessionUser::equals).orElse(true);
        }
    }

    /** Which sessions a listing holds: of one tenant and one user when given, in one state unless UNSPECIFIED. */
    record Filter(Optional<String> tenant, Optional<String> userId, SessionState state) {}

    /** A position in the listing order: creation time in milliseconds, then session id. */
    record Key(long createMs, String sessionId) {}
}
