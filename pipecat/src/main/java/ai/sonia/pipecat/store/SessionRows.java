package ai.sonia.pipecat.store;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.Timestamps;

import ai.sonia.pipecat.domain.SessionStore;
import ai.sonia.pipecat.v1.Session;
import ai.sonia.pipecat.v1.SessionState;
import ai.sonia.runtime.store.Sql;

/**
 * The session tables as both engines read and write them: the row of a session (snapshot, then owner), the
 * listing query, and statements on one connection.
 */
final class SessionRows {

    /** The columns {@link #session} reads, in its order, from SQLite's table. */
    static final String SESSION_COLUMNS = "SELECT snapshot, tenant, user_id FROM sessions";

    /** Inserts a session into {@code table}, the parameters from {@link #values}. */
    static String insert(String table) {
        return "INSERT INTO " + table + " (session_id, state, create_ms, activity_ms, snapshot, tenant, user_id,"
               + " request_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
    }

    /**
     * Inserts or replaces a session in {@code table}, the parameters from {@link #values}. The owner and the
     * request id are written with the first row and never change; a closed session is replaced only by a closed
     * one (CLOSED is final: a replica whose copy has not heard of the close cannot open it again; its title may
     * still change).
     */
    static String upsert(String table) {
        return insert(table) + " ON CONFLICT (session_id) DO UPDATE SET state = excluded.state,"
               + " activity_ms = excluded.activity_ms, snapshot = excluded.snapshot WHERE " + table + ".state <> "
               + SessionState.SESSION_STATE_CLOSED_VALUE + " OR excluded.state = " + SessionState.SESSION_STATE_CLOSED_VALUE;
    }

    /** The parameters of {@link #insert} and {@link #upsert}. */
    static Object[] values(Session session, String requestId) {
        return new Object[] {session.getSessionId(), session.getStateValue(),
                             Timestamps.toMillis(session.getCreateTime()),
                             Timestamps.toMillis(session.getLastActivityTime()),
                             session.toBuilder().clearHistory().build().toByteArray(), session.getTenant(),
                             session.getUserId(), requestId};
    }

    // The owner columns are the truth: snapshots written before sessions had owners say otherwise.
    static Session session(ResultSet rs) throws SQLException, InvalidProtocolBufferException {
        return Session.parseFrom(rs.getBytes(1)).toBuilder().setTenant(rs.getString(2)).setUserId(rs.getString(3))
                      .build();
    }

    /** The query of {@link SessionStore#list} from {@code select} (its columns), its parameters put in {@code args}. */
    static String list(String select, SessionStore.Filter filter, Optional<SessionStore.Key> after, int limit,
                       List<Object> args) {
        final StringBuilder sql = new StringBuilder(select + " WHERE 1 = 1");
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
        return sql.toString();
    }

    static int write(Connection connection, String sql, Object... args) throws SQLException {
        return Sql.update(connection, sql, args);
    }

    /** {@link Sql#query}, a stored message that cannot be parsed failing as an {@link SQLException}. */
    static <T> List<T> query(Connection connection, String sql, Row<T> row, Object... args) throws SQLException {
        return Sql.query(connection, rs -> {
            try {
                return row.read(rs);
            } catch (InvalidProtocolBufferException e) {
                throw new SQLException("a stored session cannot be read: " + e.getMessage(), e);
            }
        }, sql, args);
    }

    static <T> Optional<T> first(List<T> values) {
        return values.stream().findFirst();
    }

    /** Reads one value from the current row. */
    interface Row<T> {
        T read(ResultSet rs) throws SQLException, InvalidProtocolBufferException;
    }

    /** A step on the database. */
    interface Step<T> {
        T run() throws SQLException, InvalidProtocolBufferException;
    }

    private SessionRows() {}
}
