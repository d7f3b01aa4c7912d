package ai.sonia.memory.store;

import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Which memories a search or list may see, as a SQL condition on {@code memories m}. The tenant is always
 * bound, so no query built from a filter can cross tenants. A user (or session) narrows to that user's (or
 * session's) memories plus the broader ones of the tenant (or user), which apply to everybody inside it.
 */
public record MemoryFilter(String tenant, String user, String session, List<Integer> kinds,
                           SortedMap<String, String> metadata, boolean includeInactive, long nowMs) {

    public MemoryFilter {
        kinds = List.copyOf(kinds);
        metadata = new TreeMap<>(metadata);
    }

    /** Tenant-wide, active memories only. */
    public static MemoryFilter tenant(String tenant, long nowMs) {
        return new MemoryFilter(tenant, "", "", List.of(), new TreeMap<>(), false, nowMs);
    }

    String sql() {
        final StringBuilder sql = new StringBuilder("m.tenant = ?");
        if (!user.isEmpty()) {
            sql.append(" AND m.user_id IN ('', ?)");
        }
        if (!session.isEmpty()) {
            sql.append(" AND m.session_id IN ('', ?)");
        }
        if (!kinds.isEmpty()) {
            sql.append(" AND m.kind IN (").append("?,".repeat(kinds.size() - 1)).append("?)");
        }
        for (int i = 0; i < metadata.size(); i++) {
            sql.append(" AND EXISTS (SELECT 1 FROM memory_metadata d WHERE d.memory_id = m.id")
               .append(" AND d.key = ? AND d.value = ?)");
        }
        if (!includeInactive) {
            sql.append(" AND m.state = 1 AND (m.expire_ms IS NULL OR m.expire_ms > ?)");
        }
        return sql.toString();
    }

    /** Binds the parameters of {@link #sql()} from {@code index}; returns the next free index. */
    int bind(PreparedStatement statement, int index) throws SQLException {
        statement.setString(index++, tenant);
        if (!user.isEmpty()) {
            statement.setString(index++, user);
        }
        if (!session.isEmpty()) {
            statement.setString(index++, session);
        }
        for (int kind : kinds) {
            statement.setInt(index++, kind);
        }
        for (Map.Entry<String, String> pair : metadata.entrySet()) {
            statement.setString(index++, pair.getKey());
            statement.setString(index++, pair.getValue());
        }
        if (!includeInactive) {
            statement.setLong(index++, nowMs);
        }
        return index;
    }
}
