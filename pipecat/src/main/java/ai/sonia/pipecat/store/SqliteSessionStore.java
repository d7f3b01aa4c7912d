package ai.sonia.pipecat.store;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.Timestamps;

import ai.sonia.pipecat.domain.SessionStore;
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
 * beside them exist for queries (owner, state, ordering, expiry). One connection, serialized: SQLite has one
 * writer anyway, and an append reads the last sequence and writes the next in one step.
 */
public final class SqliteSessionStore implements SessionStore {

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
                Migrations.migrate(connection, "db/pipecat/sessions", "ai.sonia.pipecat.store.migrations");
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
        try {
            final Optional<Session> first = byRequest(session.getTenant(), session.getUserId(), requestId);
            if (first.isPresent()) {
                return first.get();
            }
            if (!query("SELECT 1 FROM sessions WHERE session_id = ?", rs -> 1, session.getSessionId()).isEmpty()) {
                throw DomainException.alreadyExists("session", session.getSessionId());
            }
            upsert(session, requestId);
            return session.toBuilder().clearHistory().build();
        } catch (SQLException | InvalidProtocolBufferException e) {
            throw failed(e, "cannot create session " + session.getSessionId());
        }
    }

    @Override
    public synchronized Optional<Session> findByRequest(String tenant, String userId, String requestId) {
        try {
            return byRequest(tenant, userId, requestId);
        } catch (SQLException | InvalidProtocolBufferException e) {
            throw failed(e, "cannot read the session of a request");
        }
    }

    @Override
    public synchronized void save(Session session) {
        try {
            upsert(session);
        } catch (SQLException e) {
            throw failed(e, "cannot save session " + session.getSessionId());
        }
    }

    @Override
    public synchronized Optional<Session> find(String sessionId) {
        try {
            return query("SELECT snapshot, tenant, user_id FROM sessions WHERE session_id = ?",
                         SqliteSessionStore::session, sessionId).stream().findFirst();
        } catch (SQLException | InvalidProtocolBufferException e) {
            throw failed(e, "cannot read session " + sessionId);
        }
    }

    @Override
    public synchronized void appendHistory(String sessionId, HistoryEntry entry) {
        try {
            requireSession(sessionId);
            update("INSERT INTO history (session_id, position, entry) VALUES (?,"
                   + " (SELECT COALESCE(MAX(position), 0) + 1 FROM history WHERE session_id = ?), ?)",
                   sessionId, sessionId, entry.toByteArray());
        } catch (SQLException | InvalidProtocolBufferException e) {
            throw failed(e, "cannot append history of " + sessionId);
        }
    }

    @Override
    public synchronized List<HistoryEntry> history(String sessionId) {
        try {
            return query("SELECT entry FROM history WHERE session_id = ? ORDER BY position",
                         rs -> HistoryEntry.parseFrom(rs.getBytes(1)), sessionId);
        } catch (SQLException | InvalidProtocolBufferException e) {
            throw failed(e, "cannot read history of " + sessionId);
        }
    }

    @Override
    public synchronized SessionEvent appendEvent(Session session, SessionEvent event, int keep) {
        final String id = session.getSessionId();
        try {
            connection.setAutoCommit(false);
            try {
                requireSession(id);
                final long sequence = query("SELECT COALESCE(MAX(seq), 0) + 1 FROM events WHERE session_id = ?",
                                            rs -> rs.getLong(1), id).get(0);
                final SessionEvent stored = event.toBuilder().setSessionId(id).setSequence(sequence).build();
                update("INSERT INTO events (session_id, seq, event) VALUES (?, ?, ?)", id, sequence,
                       stored.toByteArray());
                if (sequence % keep == 0) {
                    update("DELETE FROM events WHERE session_id = ? AND seq <= ?", id, sequence - keep);
                }
                upsert(session.toBuilder().setLastSequence(sequence).build());
                connection.commit();
                return stored;
            } catch (SQLException | InvalidProtocolBufferException | RuntimeException e) {
                rollback();
                throw e;
            } finally {
                connection.setAutoCommit(true);
            }
        } catch (SQLException | InvalidProtocolBufferException e) {
            throw failed(e, "cannot append an event to " + id);
        }
    }

    @Override
    public synchronized List<SessionEvent> events(String sessionId, long afterSequence) {
        try {
            return query("SELECT event FROM events WHERE session_id = ? AND seq > ? ORDER BY seq",
                         rs -> SessionEvent.parseFrom(rs.getBytes(1)), sessionId, afterSequence);
        } catch (SQLException | InvalidProtocolBufferException e) {
            throw failed(e, "cannot read events of " + sessionId);
        }
    }

    @Override
    public synchronized boolean markSeen(String sessionId, String messageId) {
        try {
            return update("INSERT OR IGNORE INTO seen_messages (session_id, message_id) VALUES (?, ?)",
                          sessionId, messageId) == 1;
        } catch (SQLException e) {
            throw failed(e, "cannot record a message id of " + sessionId);
        }
    }

    @Override
    public synchronized List<Session> list(Filter filter, Optional<Key> after, int limit) {
        final List<Object> args = new ArrayList<>();
        final StringBuilder sql = new StringBuilder("SELECT snapshot, tenant, user_id FROM sessions WHERE 1 = 1");
        filter.tenant().ifPresent(tenant -> {
            sql.append(" AND tenant = ?");
            args.add(tenant);
        });
        filter.userId().ifPresent(user -> {
            sql.append(" AND user_id = ?");
            args.add(user);
        });
        if (filter.state() != SessionState.SESSION_STATE_UNSPECIFIED) {
            sql.append(" AND state = ?");
            args.add(filter.state().getNumber());
        }
        after.ifPresent(key -> {
            sql.append(" AND (create_ms < ? OR (create_ms = ? AND session_id < ?))");
            args.addAll(List.of(key.createMs(), key.createMs(), key.sessionId()));
        });
        sql.append(" ORDER BY create_ms DESC, session_id DESC LIMIT ?");
        args.add(limit);
        try {
            return query(sql.toString(), SqliteSessionStore::session, args.toArray());
        } catch (SQLException | InvalidProtocolBufferException e) {
            throw failed(e, "cannot list sessions");
        }
    }

    @Override
    public synchronized int countLive() {
        try {
            return query("SELECT COUNT(*) FROM sessions WHERE state <> ?", rs -> rs.getInt(1),
                         SessionState.SESSION_STATE_CLOSED_VALUE).get(0);
        } catch (SQLException | InvalidProtocolBufferException e) {
            throw failed(e, "cannot count sessions");
        }
    }

    @Override
    public synchronized List<String> idleSince(long beforeMs) {
        try {
            return query("SELECT session_id FROM sessions WHERE state <> ? AND activity_ms < ?",
                         rs -> rs.getString(1), SessionState.SESSION_STATE_CLOSED_VALUE, beforeMs);
        } catch (SQLException | InvalidProtocolBufferException e) {
            throw failed(e, "cannot find idle sessions");
        }
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

    private void upsert(Session session) throws SQLException {
        upsert(session, "");
    }

    // The owner and the request id are written with the first row and never change.
    private void upsert(Session session, String requestId) throws SQLException {
        update("INSERT INTO sessions (session_id, state, create_ms, activity_ms, snapshot, tenant, user_id, request_id)"
               + " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
               + " ON CONFLICT (session_id) DO UPDATE SET state = excluded.state,"
               + " activity_ms = excluded.activity_ms, snapshot = excluded.snapshot",
               session.getSessionId(), session.getStateValue(), Timestamps.toMillis(session.getCreateTime()),
               Timestamps.toMillis(session.getLastActivityTime()),
               session.toBuilder().clearHistory().build().toByteArray(), session.getTenant(), session.getUserId(),
               requestId);
    }

    private Optional<Session> byRequest(String tenant, String userId, String requestId)
            throws SQLException, InvalidProtocolBufferException {
        if (requestId.isEmpty()) {
            return Optional.empty();
        }
        return query("SELECT snapshot, tenant, user_id FROM sessions WHERE tenant = ? AND user_id = ? AND request_id = ?",
                     SqliteSessionStore::session, tenant, userId, requestId).stream().findFirst();
    }

    private void requireSession(String sessionId) throws SQLException, InvalidProtocolBufferException {
        if (query("SELECT 1 FROM sessions WHERE session_id = ?", rs -> 1, sessionId).isEmpty()) {
            throw SessionStore.notFound(sessionId);
        }
    }

    // The owner columns are the truth: snapshots written before sessions had owners say otherwise.
    private static Session session(ResultSet rs) throws SQLException, InvalidProtocolBufferException {
        return Session.parseFrom(rs.getBytes(1)).toBuilder().setTenant(rs.getString(2)).setUserId(rs.getString(3))
                      .build();
    }

    private int update(String sql, Object... args) throws SQLException {
        try (PreparedStatement ps = prepare(sql, args)) {
            return ps.executeUpdate();
        }
    }

    private <T> List<T> query(String sql, Row<T> row, Object... args)
            throws SQLException, InvalidProtocolBufferException {
        final List<T> values = new ArrayList<>();
        try (PreparedStatement ps = prepare(sql, args); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                values.add(row.read(rs));
            }
        }
        return values;
    }

    private PreparedStatement prepare(String sql, Object... args) throws SQLException {
        final PreparedStatement ps = connection.prepareStatement(sql);
        try {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            return ps;
        } catch (SQLException e) {
            ps.close();
            throw e;
        }
    }

    /** Reads one value from the current row. */
    private interface Row<T> {
        T read(ResultSet rs) throws SQLException, InvalidProtocolBufferException;
    }

    // A storage fault is UNAVAILABLE (and the database counts as unwritable until a write succeeds); anything
    // else is a bug or corruption: INTERNAL, with the cause in the server log.
    private RuntimeException failed(Exception e, String what) {
        return health.unavailableOr(e, new IllegalStateException(what, e));
    }

    private void rollback() {
        try {
            connection.rollback();
        } catch (SQLException ignored) {
            // The original failure is what matters; it is thrown by the caller.
        }
    }
}
