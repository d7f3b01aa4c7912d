package ai.sonia.memory.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

import ai.sonia.memory.v1.MemoryStats;

/** The read queries behind search and statistics. */
public final class SearchQueries {

    /** Receives every stored vector at start-up. */
    @FunctionalInterface
    public interface VectorSink {
        void accept(long id, String tenant, float[] vector);
    }

    /** Receives every stored memory's text and vector, to build the search index. */
    @FunctionalInterface
    public interface DocumentSink {
        void accept(long id, String tenant, String text, float[] vector);
    }

    private SearchQueries() {}

    /** Ids of the filter's memories matching the FTS5 query, best BM25 first. */
    public static List<Long> bm25(Connection c, String ftsQuery, MemoryFilter filter, int limit)
            throws SQLException {
        final String sql = "SELECT m.id FROM memory_fts f JOIN memories m ON m.id = f.rowid"
                           + " WHERE memory_fts MATCH ? AND " + filter.sql() + " ORDER BY f.rank LIMIT ?";
        try (PreparedStatement query = c.prepareStatement(sql)) {
            query.setString(1, ftsQuery);
            final int index = filter.bind(query, 2);
            query.setInt(index, limit);
            final List<Long> ids = new ArrayList<>();
            try (ResultSet rs = query.executeQuery()) {
                while (rs.next()) {
                    ids.add(rs.getLong(1));
                }
            }
            return ids;
        }
    }

    /** Streams every stored vector, in id order. */
    public static void vectors(Connection c, VectorSink sink) throws SQLException {
        try (Statement statement = c.createStatement();
             ResultSet rs = statement.executeQuery(
                     "SELECT memory_id, tenant, vector FROM memory_vectors ORDER BY memory_id")) {
            while (rs.next()) {
                sink.accept(rs.getLong(1), rs.getString(2), MemoryLedger.toFloats(rs.getBytes(3)));
            }
        }
    }

    /** Streams every memory's text and vector, in id order. */
    public static void documents(Connection c, DocumentSink sink) throws SQLException {
        try (Statement statement = c.createStatement();
             ResultSet rs = statement.executeQuery(
                     "SELECT v.memory_id, v.tenant, m.text, v.vector FROM memory_vectors v"
                     + " JOIN memories m ON m.id = v.memory_id ORDER BY v.memory_id")) {
            while (rs.next()) {
                sink.accept(rs.getLong(1), rs.getString(2), rs.getString(3), MemoryLedger.toFloats(rs.getBytes(4)));
            }
        }
    }

    /** Counts by state, vectors, audit records and the file size; for one tenant when given. */
    public static MemoryStats stats(Connection c, String tenant, long nowMs) throws SQLException {
        final MemoryStats.Builder stats = MemoryStats.newBuilder();
        final String where = tenant.isEmpty() ? "" : " WHERE tenant = ?";
        try (PreparedStatement query = c.prepareStatement(
                "SELECT CASE WHEN state = 1 AND expire_ms <= ? THEN 4 ELSE state END AS s, count(*)"
                + " FROM memories" + where + " GROUP BY s")) {
            query.setLong(1, nowMs);
            if (!tenant.isEmpty()) {
                query.setString(2, tenant);
            }
            try (ResultSet rs = query.executeQuery()) {
                while (rs.next()) {
                    final long count = rs.getLong(2);
                    switch (rs.getInt(1)) {
                        case 1 -> stats.setActive(count);
                        case 2 -> stats.setSuperseded(count);
                        case 3 -> stats.setInvalidated(count);
                        case 4 -> stats.setExpired(count);
                        default -> { }
                    }
                }
            }
        }
        stats.setVectors(count(c, "SELECT count(*) FROM memory_vectors" + where, tenant));
        stats.setAuditRecords(count(c, "SELECT count(*) FROM audit_records" + where, tenant));
        stats.setDatabaseBytes(count(c, "SELECT page_count * page_size FROM pragma_page_count, pragma_page_size",
                                     ""));
        return stats.build();
    }

    private static long count(Connection c, String sql, String tenant) throws SQLException {
        try (PreparedStatement query = c.prepareStatement(sql)) {
            if (!tenant.isEmpty() && sql.contains("?")) {
                query.setString(1, tenant);
            }
            try (ResultSet rs = query.executeQuery()) {
                return rs.next() ? rs.getLong(1) : 0;
            }
        }
    }
}
