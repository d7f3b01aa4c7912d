package ai.sonia.pipecat.store;

import static ai.sonia.pipecat.store.SessionRows.SESSION_COLUMNS;
import static ai.sonia.pipecat.store.SessionRows.first;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;

import com.google.protobuf.InvalidProtocolBufferException;

import ai.sonia.pipecat.domain.SessionStore;
import ai.sonia.pipecat.store.SessionRows.Row;
import ai.sonia.pipecat.store.SessionRows.Step;
import ai.sonia.pipecat.v1.HistoryEntry;
import ai.sonia.pipecat.v1.Session;
import ai.sonia.pipecat.v1.SessionEvent;
import ai.sonia.pipecat.v1.SessionState;
import ai.sonia.runtime.errors.DomainException;
import ai.sonia.runtime.store.Migrations;
import ai.sonia.runtime.store.Sqlite;
import ai.sonia.runtime.store.StoreHealth;

/**
 * The session store in one SQLite file in WAL mode. Rows hold the proto messages themselves; the columns
 * beside them exist for queries (owner, request id, state, ordering, expiry). One connection, serialized:
 * SQLite has one writer anyway, and an append reads the last sequence and writes the next in one step.
 */
public final class SqliteSessionStore implements SessionStore {

    /** The store's location; its PostgreSQL sibling's SQL is under {@code db/postgresql/}. */
    static final String MIGRATIONS = "db/pipecat/sessions";

    private final Connection connection;
    private final StoreHealth health;

    private SqliteSessionStore(Connection connection, Path file) {
        this.connection = connection;
        health = new StoreHealth(file);
    }

    /** Opens (or creates, or upgrades) {@code dir/pipecat.db}. */
    public static SqliteSessionStore open(Path dir) {
        final Path file = dir.resolve("pipecat.db");
        try {
            final Connection connection = Sqlite.open(file);
            try {
                Migrations.migrate(connection, MIGRATIONS, "ai.sonia.pipecat.store.migrations");
            } catch (SQLException | RuntimeException e) {
                connection.close();
                throw e;
            }
            return new SqliteSessionStore(connection, file);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot open the session store in " + dir, e);
        }
    }

    @Override
    public synchronized Session create(Session session, String requestId) {
        return sql("cannot create session " + session.getSessionId(), () -> {
            final Optional<Session> first = byRequest(session.getTenant(), session.getUserId(), requestId);
            if (first.isPresent()) {
                return first.get();
            }
            if (exists(session.getSessionId())) {
                throw DomainException.alreadyExists("session", session.getSessionId());
            }
            upsert(session, requestId);
            return session.toBuilder().clearHistory().build();
        });
    }

    @Override
    public synchronized Session createWithin(Session session, String requestId, Limits limits) {
        final Optional<Session> first = findByRequest(session.getTenant(), session.getUserId(), requestId);
        if (first.isPresent()) {
            return first.get();
        }
        if (countLive(session.getTenant(), session.getUserId()) >= limits.perUser()) {
            throw SessionStore.liveLimit(SessionStore.PER_USER, limits.perUser());
        }
        if (limits.total() != Limits.UNCOUNTED && countLive() >= limits.total()) {
            throw SessionStore.liveLimit(SessionStore.TOTAL, limits.total());
        }
        if (limits.keptPerUser() != Limits.UNCOUNTED
            && countKept(session.getTenant(), session.getUserId()) >= limits.keptPerUser()) {
            throw SessionStore.keptLimit(limits.keptPerUser());
        }
        return create(session, requestId);
    }

    @Override
    public synchronized Optional<Session> findByRequest(String tenant, String userId, String requestId) {
        return sql("cannot read the session of a request", () -> byRequest(tenant, userId, requestId));
    }

    @Override
    public synchronized void save(Session session) {
        sql("cannot save session " + session.getSessionId(), () -> upsert(session, ""));
    }

    @Override
    public synchronized Optional<Session> find(String sessionId) {
        return sql("cannot read session " + sessionId,
                   () -> first(query(SESSION_COLUMNS + " WHERE session_id = ?", SessionRows::session,
                                     sessionId)));
    }

    @Override
    public synchronized Session update(Scope scope, String sessionId, UnaryOperator<Session> change) {
        return sql("cannot update session " + sessionId, () -> {
            final Session current = inScope(scope, sessionId);
            final Session next = change.apply(current).toBuilder().setSessionId(sessionId)
                                       .setTenant(current.getTenant()).setUserId(current.getUserId()).build();
            upsert(next, "");
            return next;
        });
    }

    @Override
    public synchronized void delete(Scope scope, String sessionId) {
        sql("cannot delete session " + sessionId, () -> inTransaction(() -> {
            inScope(scope, sessionId);
            for (String table : List.of("history", "events", "seen_messages", "sessions")) {
                update("DELETE FROM " + table + " WHERE session_id = ?", sessionId);
            }
            return null;
        }));
    }

    @Override
    public synchronized void appendHistory(String sessionId, HistoryEntry entry) {
        sql("cannot append history of " + sessionId, () -> {
            requireSession(sessionId);
            return insertHistory(sessionId, entry);
        });
    }

    private int insertHistory(String sessionId, HistoryEntry entry) throws SQLException {
        return update("INSERT INTO history (session_id, position, entry) VALUES (?,"
                      + " (SELECT COALESCE(MAX(position), 0) + 1 FROM history WHERE session_id = ?), ?)",
                      sessionId, sessionId, entry.toByteArray());
    }

    @Override
    public synchronized int historySize(String sessionId) {
        return sql("cannot count the history of " + sessionId, () -> countHistory(sessionId));
    }

    // Positions run 1, 2, 3... and entries are never deleted one by one: the last is the count.
    private int countHistory(String sessionId) throws SQLException, InvalidProtocolBufferException {
        return query("SELECT COALESCE(MAX(position), 0) FROM history WHERE session_id = ?", rs -> rs.getInt(1),
                     sessionId).get(0);
    }

    @Override
    public synchronized List<HistoryEntry> history(String sessionId) {
        return sql("cannot read history of " + sessionId,
                   () -> query("SELECT entry FROM history WHERE session_id = ? ORDER BY position",
                               rs -> HistoryEntry.parseFrom(rs.getBytes(1)), sessionId));
    }

    @Override
    public synchronized SessionEvent appendEvent(Session session, SessionEvent event, int keep) {
        final String id = session.getSessionId();
        return sql("cannot append an event to " + id, () -> inTransaction(() -> {
            requireSession(id);
            return store(session, event, keep);
        }));
    }

    @Override
    public synchronized Optional<SessionEvent> appendClosing(Session closed, SessionEvent event, int keep) {
        final String id = closed.getSessionId();
        return sql("cannot close " + id, () -> inTransaction(() -> {
            final List<Integer> state = query("SELECT state FROM sessions WHERE session_id = ?", rs -> rs.getInt(1), id);
            if (state.isEmpty()) {
                throw SessionStore.notFound(id);
            }
            if (state.get(0) == SessionState.SESSION_STATE_CLOSED_VALUE) {
                return Optional.<SessionEvent>empty();
            }
            return Optional.of(store(closed, event, keep));
        }));
    }

    // Numbers the event after the session's last, inserts it, trims the log and saves the snapshot.
    private SessionEvent store(Session session, SessionEvent event, int keep)
            throws SQLException, InvalidProtocolBufferException {
        final String id = session.getSessionId();
        // The kept events say where the log is; the snapshot too, should none be kept.
        final long sequence = Math.max(session.getLastSequence() + 1, query(
                "SELECT COALESCE(MAX(seq), 0) + 1 FROM events WHERE session_id = ?", rs -> rs.getLong(1), id)
                .get(0));
        final SessionEvent stored = event.toBuilder().setSessionId(id).setSequence(sequence).build();
        update("INSERT INTO events (session_id, seq, event) VALUES (?, ?, ?)", id, sequence, stored.toByteArray());
        if (sequence % keep == 0) {
            update("DELETE FROM events WHERE session_id = ? AND seq <= ?", id, sequence - keep);
        }
        upsert(session.toBuilder().setLastSequence(sequence).build(), "");
        return stored;
    }

    @Override
    public synchronized List<SessionEvent> events(String sessionId, long afterSequence) {
        return sql("cannot read events of " + sessionId,
                   () -> query("SELECT event FROM events WHERE session_id = ? AND seq > ? ORDER BY seq",
                               rs -> SessionEvent.parseFrom(rs.getBytes(1)), sessionId, afterSequence));
    }

    @Override
    public synchronized boolean markSeen(String sessionId, String messageId) {
        return sql("cannot record a message id of " + sessionId, () -> markSeenRow(sessionId, messageId));
    }

    private boolean markSeenRow(String sessionId, String messageId) throws SQLException {
        return update("INSERT OR IGNORE INTO seen_messages (session_id, message_id) VALUES (?, ?)", sessionId,
                      messageId) == 1;
    }

    @Override
    public synchronized Optional<SessionEvent> appendMessage(Session session, SessionEvent event, HistoryEntry entry,
                                                             int keep, int maxHistory) {
        final String id = session.getSessionId();
        return sql("cannot append a message to " + id, () -> inTransaction(() -> {
            requireSession(id);
            if (!markSeenRow(id, event.getMessageId())) {
                return Optional.<SessionEvent>empty();
            }
            if (countHistory(id) >= maxHistory) {
                throw SessionStore.historyLimit(maxHistory);
            }
            final SessionEvent stored = store(session, event, keep);
            insertHistory(id, entry);
            return Optional.of(stored);
        }));
    }

    @Override
    public synchronized List<Session> list(Filter filter, Optional<Key> after, int limit) {
        final List<Object> args = new ArrayList<>();
        final String sql = SessionRows.list(SESSION_COLUMNS, filter, after, limit, args);
        return sql("cannot list sessions", () -> query(sql, SessionRows::session, args.toArray()));
    }

    @Override
    public synchronized int countLive() {
        return sql("cannot count sessions",
                   () -> query("SELECT COUNT(*) FROM sessions WHERE state <> ?", rs -> rs.getInt(1),
                               SessionState.SESSION_STATE_CLOSED_VALUE).get(0));
    }

    private int countKept(String tenant, String userId) {
        return sql("cannot count sessions",
                   () -> query("SELECT COUNT(*) FROM sessions WHERE tenant = ? AND user_id = ?", rs -> rs.getInt(1),
                               tenant, userId).get(0));
    }

    @Override
    public synchronized int countLive(String tenant, String userId) {
        return sql("cannot count sessions",
                   () -> query("SELECT COUNT(*) FROM sessions WHERE tenant = ? AND user_id = ? AND state <> ?",
                               rs -> rs.getInt(1), tenant, userId, SessionState.SESSION_STATE_CLOSED_VALUE).get(0));
    }

    @Override
    public synchronized List<String> idleSince(long beforeMs) {
        return sql("cannot find idle sessions",
                   () -> query("SELECT session_id FROM sessions WHERE state <> ? AND activity_ms < ?",
                               rs -> rs.getString(1), SessionState.SESSION_STATE_CLOSED_VALUE, beforeMs));
    }

    @Override
    public synchronized void close() {
        health.close();
        try {
            connection.close();
        } catch (SQLException e) {
            throw new IllegalStateException("cannot close the session store", e);
        }
    }

    private int upsert(Session session, String requestId) throws SQLException {
        return update(SessionRows.upsert("sessions"), SessionRows.values(session, requestId));
    }

    private Optional<Session> byRequest(String tenant, String userId, String requestId)
            throws SQLException, InvalidProtocolBufferException {
        if (requestId.isEmpty()) {
            return Optional.empty();
        }
        return first(query(SESSION_COLUMNS + " WHERE tenant = ? AND user_id = ? AND request_id = ?",
                           SessionRows::session, tenant, userId, requestId));
    }

    private boolean exists(String sessionId) throws SQLException, InvalidProtocolBufferException {
        return !query("SELECT 1 FROM sessions WHERE session_id = ?", rs -> 1, sessionId).isEmpty();
    }

    // The session, if the scope includes its owner; NOT_FOUND otherwise, as if it did not exist.
    private Session inScope(Scope scope, String sessionId) throws SQLException, InvalidProtocolBufferException {
        return first(query(SESSION_COLUMNS + " WHERE session_id = ?", SessionRows::session, sessionId))
                .filter(s -> scope.includes(s.getTenant(), s.getUserId()))
                .orElseThrow(() -> SessionStore.notFound(sessionId));
    }

    private void requireSession(String sessionId) throws SQLException, InvalidProtocolBufferException {
        if (!exists(sessionId)) {
            throw SessionStore.notFound(sessionId);
        }
    }

    private int update(String sql, Object... args) throws SQLException {
        return SessionRows.write(connection, sql, args);
    }

    private <T> List<T> query(String sql, Row<T> row, Object... args)
            throws SQLException, InvalidProtocolBufferException {
        return SessionRows.query(connection, sql, row, args);
    }

    // A storage fault is UNAVAILABLE (and the database counts as unwritable until a write succeeds); anything
    // else is a bug or corruption: INTERNAL, with the cause in the server log.
    private <T> T sql(String what, Step<T> step) {
        try {
            return step.run();
        } catch (SQLException | InvalidProtocolBufferException e) {
            throw health.unavailableOr(e, new IllegalStateException(what, e));
        }
    }

    // Runs the step in one transaction: all of it is written, or (when it throws) nothing.
    private <T> T inTransaction(Step<T> step) throws SQLException, InvalidProtocolBufferException {
        return Sqlite.inTransaction(connection, step::run);
    }
}
