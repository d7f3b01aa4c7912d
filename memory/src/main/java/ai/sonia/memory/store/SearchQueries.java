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

    /** Counts by state, vectors and audit records of what {@code view} sees, and the file size. */
    public static MemoryStats stats(Connection c, LedgerView view, long nowMs) throws SQLException {
        final MemoryStats.Builder stats = MemoryStats.newBuilder();
        final List<String> memoryArgs = new ArrayList<>();
        final String memories = where(view, "m.tenant", "m.user_id", view.user(), memoryArgs);
        try (PreparedStatement query = c.prepareStatement(
                "SELECT CASE WHEN m.state = 1 AND m.expire_ms <= ? THEN 4 ELSE m.state END AS s, count(*)"
                + " FROM memories m" + memories + " GROUP BY s")) {
            query.setLong(1, nowMs);
            bind(query, 2, memoryArgs);
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
        stats.setVectors(count(c, "SELECT count(*) FROM memory_vectors v JOIN memories m ON m.id = v.memory_id"
                                  + memories, memoryArgs));
        final List<String> auditArgs = new ArrayList<>();
        stats.setAuditRecords(count(c, "SELECT count(*) FROM audit_records"
                                       + where(view, "tenant", "principal", view.principal(), auditArgs),
                                    auditArgs));
        stats.setDatabaseBytes(count(c, "SELECT page_count * page_size FROM pragma_page_count, pragma_page_size",
                                     List.of()));
        return stats.build();
    }

    /** A WHERE clause on the view's tenant and, when set, its narrower column; collects the arguments. */
    private static String where(LedgerView view, String tenantColumn, String narrowColumn, String narrowValue,
                                List<String> args) {
        if (view.tenant().isEmpty()) {
            return "";
        }
        args.add(view.tenant());
        if (narrowValue.isEmpty()) {
            return " WHERE " + tenantColumn + " = ?";
        }
        args.add(narrowValue);
        return " WHERE " + tenantColumn + " = ? AND " + narrowColumn + " = ?";
    }

    private static void bind(PreparedStatement query, int from, List<String> args) throws SQLException {
        for (int i = 0; i < args.size(); i++) {
            query.setString(from + i, args.get(i));
        }
    }

    private static long count(Connection c, String sql, List<String> args) throws SQLException {
        try (PreparedStatement query = c.prepareStatement(sql)) {
            bind(query, 1, args);
            try (ResultSet rs = query.executeQuery()) {
                return rs.next() ? rs.getLong(1) : 0;
            }
        }
    }
}
