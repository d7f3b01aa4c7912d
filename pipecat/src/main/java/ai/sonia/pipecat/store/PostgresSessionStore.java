package ai.sonia.pipecat.store;

import static ai.sonia.pipecat.store.SessionRows.first;
import static ai.sonia.pipecat.store.SessionRows.query;
import static ai.sonia.pipecat.store.SessionRows.values;
import static ai.sonia.pipecat.store.SessionRows.write;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;

import com.google.protobuf.InvalidProtocolBufferException;

import ai.sonia.pipecat.domain.SessionStore;
import ai.sonia.pipecat.v1.HistoryEntry;
import ai.sonia.pipecat.v1.Session;
import ai.sonia.pipecat.v1.SessionEvent;
import ai.sonia.pipecat.v1.SessionState;
import ai.sonia.runtime.errors.DomainException;
import ai.sonia.runtime.store.Postgres;
import ai.sonia.runtime.store.PostgresPool;

/**
 * The session store on PostgreSQL (with {@code store.engine} postgres), shared by every pipecat replica: the
 * tables of {@link SqliteSessionStore} (named {@code pipecat_*}: the services share one database), plus each
 * session's event counter ({@code pipecat_sessions.last_seq}). An
 * append raises the counter in the statement that locks the session's row, inserts the event and saves the
 * snapshot in the same transaction, so sequences stay gapless and unique however many replicas append to a
 * session at once; a rolled-back append gives its number back. Every step that reads and then writes a session
 * locks its row first. Schema: the Flyway migrations of {@code db/postgresql/pipecat/sessions}.
 */
public final class PostgresSessionStore implements SessionStore {

    // A snapshot saved by a replica that has not seen the newest events says less than the counter.
    private static final String SESSION_COLUMNS = "SELECT snapshot, tenant, user_id, last_seq FROM pipecat_sessions";
    // Every service's stores share the database (store.postgres): the tables carry the service's name.
    private static final String SESSIONS = "pipecat_sessions";
    private static final String POOL = "pipecat-sessions";
    private static final String UPSERT = SessionRows.upsert(SESSIONS);
    // The advisory lock that orders session starts across replicas ("pipecat" in ASCII).
    private static final long LIVE_LOCK = 0x70697065636174L;

    private final PostgresPool pool;

    private PostgresSessionStore(PostgresPool pool) {
        this.pool = pool;
    }

    /**
     * Connects to the settings' database and migrates the sessions' schema.
     *
     * @throws IllegalStateException when the database cannot be reached (naming it) or migrated
     */
    public static PostgresSessionStore open(Postgres.Settings settings) {
        return new PostgresSessionStore(PostgresPool.open(settings, POOL, SqliteSessionStore.MIGRATIONS, "pipecat", POOL));
    }

    @Override
    public Session create(Session session, String requestId) {
        return pool.inTransaction(c -> insert(c, session, requestId));
    }

    @Override
    public Session createWithin(Session session, String requestId, Limits limits) {
        return pool.inTransaction(c -> {
            // Starts through every replica take this lock in turn (to their commit): the count is of committed starts.
            query(c, "SELECT pg_advisory_xact_lock(?)", rs -> 1, LIVE_LOCK);
            final Optional<Session> first = byRequest(c, session.getTenant(), session.getUserId(), requestId);
            if (first.isPresent()) {
                return first.get();
            }
            if (countLive(c, session.getTenant(), session.getUserId()) >= limits.perUser()) {
                throw SessionStore.liveLimit(SessionStore.PER_USER, limits.perUser());
            }
            if (limits.total() != Limits.UNCOUNTED && countLive(c) >= limits.total()) {
                throw SessionStore.liveLimit(SessionStore.TOTAL, limits.total());
            }
            if (limits.keptPerUser() != Limits.UNCOUNTED
                && query(c, "SELECT COUNT(*) FROM pipecat_sessions WHERE tenant = ? AND user_id = ?", rs -> rs.getInt(1),
                         session.getTenant(), session.getUserId()).get(0) >= limits.keptPerUser()) {
                throw SessionStore.keptLimit(limits.keptPerUser());
            }
            return insert(c, session, requestId);
        });
    }

    // The first session of the request, or this one inserted.
    private static Session insert(Connection c, Session session, String requestId)
            throws SQLException {
        final Optional<Session> first = byRequest(c, session.getTenant(), session.getUserId(), requestId);
        if (first.isPresent()) {
            return first.get();
        }
        if (write(c, SessionRows.insert(SESSIONS) + " ON CONFLICT DO NOTHING", values(session, requestId)) == 0) {
            // This id exists, or a start of the same request committed meanwhile (through another replica).
            return byRequest(c, session.getTenant(), session.getUserId(), requestId)
                    .orElseThrow(() -> DomainException.alreadyExists("session", session.getSessionId()));
        }
        return session.toBuilder().clearHistory().build();
    }

    @Override
    public Optional<Session> findByRequest(String tenant, String userId, String requestId) {
        return pool.inTransaction(c -> byRequest(c, tenant, userId, requestId));
    }

    @Override
    public void save(Session session) {
        pool.inTransaction(c -> write(c, UPSERT, values(session, "")));
    }

    @Override
    public Optional<Session> find(String sessionId) {
        return pool.inTransaction(c -> first(query(c, SESSION_COLUMNS + " WHERE session_id = ?", PostgresSessionStore::session,
                                     sessionId)));
    }

    @Override
    public Session update(Scope scope, String sessionId, UnaryOperator<Session> change) {
        return pool.inTransaction(c -> {
            final Session current = lockInScope(c, scope, sessionId);
            final Session next = change.apply(current).toBuilder().setSessionId(sessionId)
                                       .setTenant(current.getTenant()).setUserId(current.getUserId()).build();
            write(c, UPSERT, values(next, ""));
            return next;
        });
    }

    @Override
    public void delete(Scope scope, String sessionId) {
        pool.inTransaction(c -> {
            lockInScope(c, scope, sessionId);
            for (String table : List.of("pipecat_history", "pipecat_events", "pipecat_seen_messages", SESSIONS)) {
                write(c, "DELETE FROM " + table + " WHERE session_id = ?", sessionId);
            }
            return null;
        });
    }

    @Override
    public void appendHistory(String sessionId, HistoryEntry entry) {
        pool.inTransaction(c -> {
            // The session's row lock orders appends of every replica: positions neither collide nor skip.
            if (query(c, "SELECT 1 FROM pipecat_sessions WHERE session_id = ? FOR NO KEY UPDATE", rs -> 1, sessionId)
                    .isEmpty()) {
                throw SessionStore.notFound(sessionId);
            }
            return insertHistory(c, sessionId, entry);
        });
    }

    private static int insertHistory(Connection c, String sessionId, HistoryEntry entry) throws SQLException {
        return write(c, "INSERT INTO pipecat_history (session_id, position, entry) VALUES (?,"
                        + " (SELECT COALESCE(MAX(position), 0) + 1 FROM pipecat_history WHERE session_id = ?), ?)",
                     sessionId, sessionId, entry.toByteArray());
    }

    @Override
    public int historySize(String sessionId) {
        return pool.inTransaction(c -> countHistory(c, sessionId));
    }

    // Positions run 1, 2, 3... and entries are never deleted one by one: the last is the count.
    private static int countHistory(Connection c, String sessionId) throws SQLException {
        return query(c, "SELECT COALESCE(MAX(position), 0) FROM pipecat_history WHERE session_id = ?",
                     rs -> rs.getInt(1), sessionId).get(0);
    }

    @Override
    public List<HistoryEntry> history(String sessionId) {
        return pool.inTransaction(c -> query(c, "SELECT entry FROM pipecat_history WHERE session_id = ? ORDER BY position",
                               rs -> HistoryEntry.parseFrom(rs.getBytes(1)), sessionId));
    }

    @Override
    public SessionEvent appendEvent(Session session, SessionEvent event, int keep) {
        return pool.inTransaction(c -> store(c, session, event, keep, nextSequence(c, session)));
    }

    @Override
    public Optional<SessionEvent> appendClosing(Session closed, SessionEvent event, int keep) {
        final String id = closed.getSessionId();
        return pool.inTransaction(c -> {
            // As appendEvent, but only while the session is open: a replica closing it at the same time waits for
            // this row lock, and PostgreSQL checks the condition again on the row this one committed: no row.
            final Optional<Long> sequence = first(query(
                    c, "UPDATE pipecat_sessions SET last_seq = GREATEST(last_seq, ?) + 1 WHERE session_id = ?"
                       + " AND state <> ? RETURNING last_seq",
                    rs -> rs.getLong(1), closed.getLastSequence(), id, SessionState.SESSION_STATE_CLOSED_VALUE));
            if (sequence.isEmpty()) {
                if (query(c, "SELECT 1 FROM pipecat_sessions WHERE session_id = ?", rs -> 1, id).isEmpty()) {
                    throw SessionStore.notFound(id);
                }
                return Optional.<SessionEvent>empty();
            }
            return Optional.of(store(c, closed, event, keep, sequence.get()));
        });
    }

    // One statement takes the session's next number and its row lock, held to the commit: the next appender (of any
    // replica) waits here and numbers after this one. NOT_FOUND for an unknown session.
    private static long nextSequence(Connection c, Session session) throws SQLException {
        final String id = session.getSessionId();
        return first(query(
                c, "UPDATE pipecat_sessions SET last_seq = GREATEST(last_seq, ?) + 1 WHERE session_id = ? RETURNING last_seq",
                rs -> rs.getLong(1), session.getLastSequence(), id))
                .orElseThrow(() -> SessionStore.notFound(id));
    }

    // Inserts the event numbered `sequence` (the session's row locked), trims the log and saves the snapshot.
    private static SessionEvent store(Connection c, Session session, SessionEvent event, int keep, long sequence)
            throws SQLException {
        final String id = session.getSessionId();
        final SessionEvent stored = event.toBuilder().setSessionId(id).setSequence(sequence).build();
        write(c, "INSERT INTO pipecat_events (session_id, seq, event) VALUES (?, ?, ?)", id, sequence,
              stored.toByteArray());
        if (sequence % keep == 0) {
            write(c, "DELETE FROM pipecat_events WHERE session_id = ? AND seq <= ?", id, sequence - keep);
        }
        write(c, UPSERT, values(session.toBuilder().setLastSequence(sequence).build(), ""));
        return stored;
    }

    @Override
    public boolean shared() {
        return true;
    }

    @Override
    public List<SessionEvent> events(String sessionId, long afterSequence) {
        return pool.inTransaction(c -> query(c, "SELECT event FROM pipecat_events WHERE session_id = ? AND seq > ? ORDER BY seq",
                               rs -> SessionEvent.parseFrom(rs.getBytes(1)), sessionId, afterSequence));
    }

    @Override
    public boolean markSeen(String sessionId, String messageId) {
        return pool.inTransaction(c -> markSeenRow(c, sessionId, messageId));
    }

    private static boolean markSeenRow(Connection c, String sessionId, String messageId) throws SQLException {
        return write(c, "INSERT INTO pipecat_seen_messages (session_id, message_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
                     sessionId, messageId) == 1;
    }

    @Override
    public Optional<SessionEvent> appendMessage(Session session, SessionEvent event, HistoryEntry entry, int keep,
                                                int maxHistory) {
        final String id = session.getSessionId();
        return pool.inTransaction(c -> {
            // A replica taking the same message id at once waits on this row until this transaction ends.
            if (!markSeenRow(c, id, event.getMessageId())) {
                return Optional.<SessionEvent>empty();
            }
            final long sequence = nextSequence(c, session); // locks the session's row: one message at a time
            if (countHistory(c, id) >= maxHistory) {
                throw SessionStore.historyLimit(maxHistory);
            }
            final SessionEvent stored = store(c, session, event, keep, sequence);
            insertHistory(c, id, entry);
            return Optional.of(stored);
        });
    }

    @Override
    public List<Session> list(Filter filter, Optional<Key> after, int limit) {
        final List<Object> args = new ArrayList<>();
        final String sql = SessionRows.list(SESSION_COLUMNS, filter, after, limit, args);
        return pool.inTransaction(c -> query(c, sql, PostgresSessionStore::session, args.toArray()));
    }

    @Override
    public int countLive() {
        return pool.inTransaction(PostgresSessionStore::countLive);
    }

    private static int countLive(Connection c) throws SQLException {
        return query(c, "SELECT COUNT(*) FROM pipecat_sessions WHERE state <> ?", rs -> rs.getInt(1),
                     SessionState.SESSION_STATE_CLOSED_VALUE).get(0);
    }

    @Override
    public int countLive(String tenant, String userId) {
        return pool.inTransaction(c -> countLive(c, tenant, userId));
    }

    private static int countLive(Connection c, String tenant, String userId) throws SQLException {
        return query(c, "SELECT COUNT(*) FROM pipecat_sessions WHERE tenant = ? AND user_id = ? AND state <> ?",
                     rs -> rs.getInt(1), tenant, userId, SessionState.SESSION_STATE_CLOSED_VALUE).get(0);
    }

    @Override
    public List<String> idleSince(long beforeMs) {
        return pool.inTransaction(c -> query(c, "SELECT session_id FROM pipecat_sessions WHERE state <> ? AND activity_ms < ?",
                               rs -> rs.getString(1), SessionState.SESSION_STATE_CLOSED_VALUE, beforeMs));
    }

    @Override
    public void close() {
        pool.close();
    }

    private static Optional<Session> byRequest(Connection c, String tenant, String userId, String requestId)
            throws SQLException {
        if (requestId.isEmpty()) {
            return Optional.empty();
        }
        return first(query(c, SESSION_COLUMNS + " WHERE tenant = ? AND user_id = ? AND request_id = ?",
                           PostgresSessionStore::session, tenant, userId, requestId));
    }

    // The session, its row locked to the commit, if the scope includes its owner; NOT_FOUND otherwise, as if it
    // did not exist.
    private static Session lockInScope(Connection c, Scope scope, String sessionId)
            throws SQLException {
        return first(query(c, SESSION_COLUMNS + " WHERE session_id = ? FOR UPDATE", PostgresSessionStore::session,
                           sessionId))
                .filter(s -> scope.includes(s.getTenant(), s.getUserId()))
                .orElseThrow(() -> SessionStore.notFound(sessionId));
    }

    private static Session session(ResultSet rs) throws SQLException, InvalidProtocolBufferException {
        final Session session = SessionRows.session(rs);
        final long counted = rs.getLong(4);
        return counted > session.getLastSequence() ? session.toBuilder().setLastSequence(counted).build() : session;
    }
}
