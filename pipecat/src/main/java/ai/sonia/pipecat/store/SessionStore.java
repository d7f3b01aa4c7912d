package ai.sonia.pipecat.store;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import com.google.protobuf.InvalidProtocolBufferException;
import com.linecorp.armeria.common.annotation.Nullable;

import ai.sonia.pipecat.v1.HistoryEntry;
import ai.sonia.pipecat.v1.Session;
import ai.sonia.pipecat.v1.SessionEvent;
import ai.sonia.pipecat.v1.SessionState;
import ai.sonia.runtime.store.Sqlite;
import ai.sonia.runtime.store.StoreHealth;

/**
 * Sessions, their history, their recent events and the message ids they have seen, in one SQLite
 * file in WAL mode. Rows hold the proto messages themselves; the columns beside them exist for
 * queries (owner, state, ordering, expiry). One connection, serialized: SQLite has one writer anyway.
 */
public final class SessionStore implements AutoCloseable {

    private final Connection connection;
    private final StoreHealth health;

    private SessionStore(Connection connection, Path file) {
        this.connection = connection;
        health = new StoreHealth(file);
    }

    /** Opens (or creates) {@code dir/pipecat.db}. */
    public static SessionStore open(Path dir) {
        try {
            final Connection connection = Sqlite.open(dir.resolve("pipecat.db"));
            try (Statement st = connection.createStatement()) {
                st.execute("CREATE TABLE IF NOT EXISTS sessions (session_id TEXT PRIMARY KEY, state INTEGER NOT NULL,"
                           + " create_ms INTEGER NOT NULL, activity_ms INTEGER NOT NULL, snapshot BLOB NOT NULL,"
                           + " tenant TEXT NOT NULL, user_id TEXT NOT NULL)");
                OwnerMigration.apply(connection);
                st.execute("CREATE INDEX IF NOT EXISTS sessions_by_create ON sessions (create_ms DESC, session_id DESC)");
                st.execute("CREATE INDEX IF NOT EXISTS sessions_by_owner"
                           + " ON sessions (tenant, user_id, create_ms DESC, session_id DESC)");
                st.execute("CREATE TABLE IF NOT EXISTS history (session_id TEXT NOT NULL, position INTEGER NOT NULL,"
                           + " entry BLOB NOT NULL, PRIMARY KEY (session_id, position))");
                st.execute("CREATE TABLE IF NOT EXISTS events (session_id TEXT NOT NULL, seq INTEGER NOT NULL,"
                           + " event BLOB NOT NULL, PRIMARY KEY (session_id, seq))");
                st.execute("CREATE TABLE IF NOT EXISTS seen_messages (session_id TEXT NOT NULL,"
                           + " message_id TEXT NOT NULL, PRIMARY KEY (session_id, message_id))");
            }
            return new SessionStore(connection, dir.resolve("pipecat.db"));
        } catch (SQLException e) {
            throw new StoreException("cannot open the session store in " + dir, e);
        }
    }

    /**
     * Inserts or replaces a session (its history is kept apart). Its owner (tenant, user) is written once,
     * when the session is first saved, and never changes after.
     */
    public synchronized void save(Session session) {
        try (PreparedStatement ps = connection.prepareStatement(
                "INSERT INTO sessions (session_id, state, create_ms, activity_ms, snapshot, tenant, user_id)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?)"
                + " ON CONFLICT (session_id) DO UPDATE SET state = excluded.state,"
                + " activity_ms = excluded.activity_ms, snapshot = excluded.snapshot")) {
            ps.setString(1, session.getSessionId());
            ps.setInt(2, session.getStateValue());
            ps.setLong(3, Timestamps.toMillis(session.getCreateTime()));
            ps.setLong(4, Timestamps.toMillis(session.getLastActivityTime()));
            ps.setBytes(5, session.toBuilder().clearHistory().build().toByteArray());
            ps.setString(6, session.getTenant());
            ps.setString(7, session.getUserId());
            ps.executeUpdate();
        } catch (SQLException e) {
            throw health.unavailableOr(e, new StoreException("cannot save session " + session.getSessionId(), e));
        }
    }

    /** A session without its history. */
    public synchronized Optional<Session> find(String sessionId) {
        try (PreparedStatement ps = connection.prepareStatement(
                "SELECT snapshot, tenant, user_id FROM sessions WHERE session_id = ?")) {
            ps.setString(1, sessionId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(session(rs)) : Optional.empty();
            }
        } catch (SQLException | InvalidProtocolBufferException e) {
            throw health.unavailableOr(e, new StoreException("cannot read session " + sessionId, e));
        }
    }

    /** Appends one entry to a session's history. */
    public synchronized void appendHistory(String sessionId, HistoryEntry entry) {
        try (PreparedStatement ps = connection.prepareStatement(
                "INSERT INTO history (session_id, position, entry) VALUES (?,"
                + " (SELECT COALESCE(MAX(position), 0) + 1 FROM history WHERE session_id = ?), ?)")) {
            ps.setString(1, sessionId);
            ps.setString(2, sessionId);
            ps.setBytes(3, entry.toByteArray());
            ps.executeUpdate();
        } catch (SQLException e) {
            throw health.unavailableOr(e, new StoreException("cannot append history of " + sessionId, e));
        }
    }

    /** A session's history, oldest first. */
    public synchronized List<HistoryEntry> history(String sessionId) {
        try (PreparedStatement ps = connection.prepareStatement(
                "SELECT entry FROM history WHERE session_id = ? ORDER BY position")) {
            ps.setString(1, sessionId);
            return rows(ps, rs -> HistoryEntry.parseFrom(rs.getBytes(1)));
        } catch (SQLException | InvalidProtocolBufferException e) {
            throw health.unavailableOr(e, new StoreException("cannot read history of " + sessionId, e));
        }
    }

    /**
     * Stores an event together with the session's new snapshot (its last sequence) in one transaction,
     * and forgets events older than the newest {@code keep}.
     */
    public synchronized void appendEvent(Session session, SessionEvent event, int keep) {
        try {
            connection.setAutoCommit(false);
            try (PreparedStatement ps = connection.prepareStatement(
                    "INSERT INTO events (session_id, seq, event) VALUES (?, ?, ?)")) {
                ps.setString(1, event.getSessionId());
                ps.setLong(2, event.getSequence());
                ps.setBytes(3, event.toByteArray());
                ps.executeUpdate();
            }
            if (event.getSequence() % keep == 0) {
                try (PreparedStatement ps = connection.prepareStatement(
                        "DELETE FROM events WHERE session_id = ? AND seq <= ?")) {
                    ps.setString(1, event.getSessionId());
                    ps.setLong(2, event.getSequence() - keep);
                    ps.executeUpdate();
                }
            }
            save(session);
            connection.commit();
        } catch (SQLException e) {
            rollback();
            throw health.unavailableOr(e, new StoreException("cannot append event " + event.getSequence() + " of " + event.getSessionId(), e));
        } finally {
            autoCommit();
        }
    }

    /** The newest {@code limit} events of a session, oldest first. */
    public synchronized List<SessionEvent> recentEvents(String sessionId, int limit) {
        try (PreparedStatement ps = connection.prepareStatement(
                "SELECT event FROM (SELECT seq, event FROM events WHERE session_id = ? ORDER BY seq DESC LIMIT ?)"
                + " ORDER BY seq")) {
            ps.setString(1, sessionId);
            ps.setInt(2, limit);
            return rows(ps, rs -> SessionEvent.parseFrom(rs.getBytes(1)));
        } catch (SQLException | InvalidProtocolBufferException e) {
            throw health.unavailableOr(e, new StoreException("cannot read events of " + sessionId, e));
        }
    }

    /** Records a client message id; false when the session had already seen it. */
    public synchronized boolean markSeen(String sessionId, String messageId) {
        try (PreparedStatement ps = connection.prepareStatement(
                "INSERT OR IGNORE INTO seen_messages (session_id, message_id) VALUES (?, ?)")) {
            ps.setString(1, sessionId);
            ps.setString(2, messageId);
            return ps.executeUpdate() == 1;
        } catch (SQLException e) {
            throw health.unavailableOr(e, new StoreException("cannot record message id of " + sessionId, e));
        }
    }

    /**
     * Sessions, newest first, after the keyset position {@code (createMs, sessionId)} when given, of
     * {@code tenant} and {@code userId} when not null.
     */
    public synchronized List<Session> list(int limit, @Nullable String tenant, @Nullable String userId,
                                           SessionState state, long afterCreateMs, String afterId) {
        final StringBuilder sql = new StringBuilder("SELECT snapshot, tenant, user_id FROM sessions WHERE 1 = 1");
        if (tenant != null) {
            sql.append(" AND tenant = ?");
        }
        if (userId != null) {
            sql.append(" AND user_id = ?");
        }
        if (state != SessionState.SESSION_STATE_UNSPECIFIED) {
            sql.append(" AND state = ?");
        }
        if (afterId != null) {
            sql.append(" AND (create_ms < ? OR (create_ms = ? AND session_id < ?))");
        }
        sql.append(" ORDER BY create_ms DESC, session_id DESC LIMIT ?");
        try (PreparedStatement ps = connection.prepareStatement(sql.toString())) {
            int i = 1;
            if (tenant != null) {
                ps.setString(i++, tenant);
            }
            if (userId != null) {
                ps.setString(i++, userId);
            }
            if (state != SessionState.SESSION_STATE_UNSPECIFIED) {
                ps.setInt(i++, state.getNumber());
            }
            if (afterId != null) {
                ps.setLong(i++, afterCreateMs);
                ps.setLong(i++, afterCreateMs);
                ps.setString(i++, afterId);
            }
            ps.setInt(i, limit);
            return rows(ps, SessionStore::session);
        } catch (SQLException | InvalidProtocolBufferException e) {
            throw health.unavailableOr(e, new StoreException("cannot list sessions", e));
        }
    }

    /** How many sessions are not closed. */
    public synchronized int countLive() {
        try (PreparedStatement ps = connection.prepareStatement("SELECT COUNT(*) FROM sessions WHERE state <> ?")) {
            ps.setInt(1, SessionState.SESSION_STATE_CLOSED_VALUE);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        } catch (SQLException e) {
            throw health.unavailableOr(e, new StoreException("cannot count sessions", e));
        }
    }

    /** Ids of sessions not closed whose last activity is before {@code beforeMs}. */
    public synchronized List<String> idleSince(long beforeMs) {
        try (PreparedStatement ps = connection.prepareStatement(
                "SELECT session_id FROM sessions WHERE state <> ? AND activity_ms < ?")) {
            ps.setInt(1, SessionState.SESSION_STATE_CLOSED_VALUE);
            ps.setLong(2, beforeMs);
            return rows(ps, rs -> rs.getString(1));
        } catch (SQLException | InvalidProtocolBufferException e) {
            throw health.unavailableOr(e, new StoreException("cannot find idle sessions", e));
        }
    }

    @Override
    public synchronized void close() throws SQLException {
        health.close();
        connection.close();
    }

    // The owner columns are the truth: snapshots written before sessions had owners say otherwise.
    private static Session session(ResultSet rs) throws SQLException, InvalidProtocolBufferException {
        return Session.parseFrom(rs.getBytes(1)).toBuilder().setTenant(rs.getString(2)).setUserId(rs.getString(3))
                      .build();
    }

    private static <T> List<T> rows(PreparedStatement ps, Row<T> row)
            throws SQLException, InvalidProtocolBufferException {
        final List<T> values = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                values.add(row.read(rs));
            }
        }
        return values;
    }

    /** Reads one value from the current row. */
    private interface Row<T> {
        T read(ResultSet rs) throws SQLException, InvalidProtocolBufferException;
    }

    private void rollback() {
        try {
            connection.rollback();
        } catch (SQLException ignored) {
            // The original failure is what matters; it is thrown by the caller.
        }
    }

    private void autoCommit() {
        try {
            connection.setAutoCommit(true);
        } catch (SQLException e) {
            throw health.unavailableOr(e, new StoreException("cannot restore auto-commit", e));
        }
    }
}
