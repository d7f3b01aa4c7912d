package ai.sonia.memory.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import com.google.protobuf.util.Timestamps;

import ai.sonia.common.v1.Scope;
import ai.sonia.memory.v1.Memory;
import ai.sonia.memory.v1.MemoryKind;
import ai.sonia.memory.v1.MemoryState;

/** Reads memories and turns rows into {@link Memory} messages. */
public final class MemoryRows {

    static final String COLUMNS =
            "m.id, m.name, m.tenant, m.user_id, m.session_id, m.kind, m.text, m.content_hash, m.source, m.trust,"
            + " m.state, m.create_ms, m.access_ms, m.access_count, m.valid_from_ms, m.valid_to_ms, m.expire_ms,"
            + " m.supersedes, m.superseded_by";

    /** A memory with its row id, the key shared with the full-text index and the vectors. */
    public record Row(long id, Memory memory, long referenceMs) {}

    private MemoryRows() {}

    /** The memory with this name, or empty. */
    public static Optional<Row> byName(Connection connection, String name, long nowMs) throws SQLException {
        return one(connection, "SELECT " + COLUMNS + " FROM memories m WHERE m.name = ?", name, nowMs);
    }

    /** The active memory of this scope with this content hash, or empty. */
    public static Optional<Row> activeByHash(Connection connection, Scope scope, String hash, long nowMs)
            throws SQLException {
        try (PreparedStatement query = connection.prepareStatement(
                "SELECT " + COLUMNS + " FROM memories m WHERE m.tenant = ? AND m.user_id = ? AND m.session_id = ?"
                + " AND m.content_hash = ? AND m.state = 1")) {
            query.setString(1, scope.getTenant());
            query.setString(2, scope.getUser());
            query.setString(3, scope.getSession());
            query.setString(4, hash);
            return first(connection, query, nowMs);
        }
    }

    /** A page of the filter's memories, newest first, older than {@code beforeId} (0 for the newest). */
    public static List<Row> list(Connection connection, MemoryFilter filter, long beforeId, int limit)
            throws SQLException {
        final String sql = "SELECT " + COLUMNS + " FROM memories m WHERE " + filter.sql()
                           + (beforeId > 0 ? " AND m.id < ?" : "") + " ORDER BY m.id DESC LIMIT ?";
        try (PreparedStatement query = connection.prepareStatement(sql)) {
            int index = filter.bind(query, 1);
            if (beforeId > 0) {
                query.setLong(index++, beforeId);
            }
            query.setInt(index, limit);
            return all(connection, query, filter.nowMs());
        }
    }

    /** Those of {@code ids} that pass the filter, keyed by id. */
    public static Map<Long, Row> eligible(Connection connection, MemoryFilter filter, Collection<Long> ids)
            throws SQLException {
        final Map<Long, Row> rows = new HashMap<>();
        if (ids.isEmpty()) {
            return rows;
        }
        // NOT INDEXED: look the ids up by primary key; the planner would otherwise scan the tenant's index.
        final String sql = "SELECT " + COLUMNS + " FROM memories m NOT INDEXED WHERE " + filter.sql()
                           + " AND m.id IN (SELECT value FROM json_each(?))";
        try (PreparedStatement query = connection.prepareStatement(sql)) {
            final int index = filter.bind(query, 1);
            query.setString(index, ids.toString());
            for (Row row : all(connection, query, filter.nowMs())) {
                rows.put(row.id(), row);
            }
        }
        return rows;
    }

    private static Optional<Row> one(Connection connection, String sql, String key, long nowMs)
            throws SQLException {
        try (PreparedStatement query = connection.prepareStatement(sql)) {
            query.setString(1, key);
            return first(connection, query, nowMs);
        }
    }

    private static Optional<Row> first(Connection connection, PreparedStatement query, long nowMs)
            throws SQLException {
        final List<Row> rows = all(connection, query, nowMs);
        return rows.isEmpty() ? Optional.empty() : Optional.of(rows.get(0));
    }

    private static List<Row> all(Connection connection, PreparedStatement query, long nowMs)
            throws SQLException {
        final Map<Long, Memory.Builder> builders = new LinkedHashMap<>();
        final Map<Long, Long> references = new HashMap<>();
        try (ResultSet rs = query.executeQuery()) {
            while (rs.next()) {
                final long id = rs.getLong(1);
                builders.put(id, read(rs, nowMs));
                references.put(id, Math.max(rs.getLong(12), rs.getLong(13)));
            }
        }
        if (builders.isEmpty()) {
            return List.of();
        }
        try (PreparedStatement metadata = connection.prepareStatement(
                "SELECT memory_id, key, value FROM memory_metadata WHERE memory_id IN (SELECT value FROM json_each(?))")) {
            metadata.setString(1, builders.keySet().toString());
            try (ResultSet rs = metadata.executeQuery()) {
                while (rs.next()) {
                    builders.get(rs.getLong(1)).putMetadata(rs.getString(2), rs.getString(3));
                }
            }
        }
        final List<Row> rows = new ArrayList<>(builders.size());
        builders.forEach((id, builder) -> rows.add(new Row(id, builder.build(), references.get(id))));
        return rows;
    }

    private static Memory.Builder read(ResultSet rs, long nowMs) throws SQLException {
        final Memory.Builder memory =
                Memory.newBuilder()
                      .setName(rs.getString(2))
                      .setScope(Scope.newBuilder().setTenant(rs.getString(3)).setUser(rs.getString(4))
                                     .setSession(rs.getString(5)))
                      .setKind(MemoryKind.forNumber(rs.getInt(6)))
                      .setText(rs.getString(7))
                      .setContentHash(rs.getString(8))
                      .setSource(rs.getString(9))
                      .setTrust(rs.getString(10))
                      .setCreateTime(Timestamps.fromMillis(rs.getLong(12)))
                      .setAccessTime(Timestamps.fromMillis(rs.getLong(13)))
                      .setAccessCount(rs.getLong(14))
                      .setValidFrom(Timestamps.fromMillis(rs.getLong(15)))
                      .setSupersedes(rs.getString(18))
                      .setSupersededBy(rs.getString(19));
        MemoryState state = MemoryState.forNumber(rs.getInt(11));
        final long validTo = rs.getLong(16);
        if (!rs.wasNull()) {
            memory.setValidTo(Timestamps.fromMillis(validTo));
        }
        final long expire = rs.getLong(17);
        if (!rs.wasNull()) {
            memory.setExpireTime(Timestamps.fromMillis(expire));
            // Expiry takes effect at its time, before the sweeper gets to record it.
            if (state == MemoryState.MEMORY_STATE_ACTIVE && expire <= nowMs) {
                state = MemoryState.MEMORY_STATE_EXPIRED;
                memory.setValidTo(Timestamps.fromMillis(expire));
            }
        }
        return memory.setState(state);
    }
}
