package ai.sonia.memory.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import ai.sonia.memory.domain.MemoryFilter;

/**
 * The columns a search filters on (tenant, user, session, kind, state, expiry, metadata) and each memory's
 * reference time, for every memory of a SQLite ledger that one process writes, kept in this process's memory so
 * that ranking checks its candidates without a query. It stays exact by construction rather than by each write
 * remembering to tell it: temporary triggers on the writer connection record the id of every row of
 * {@code memories} and {@code memory_metadata} that any statement inserts, updates or deletes; before each
 * commit the writer reads those rows as the transaction leaves them ({@link #changes}), and they replace the
 * mirror's entries once the commit succeeded, before any writer of the group is answered. A write rolled back
 * (a savepoint or the whole group) rolls its recorded ids back with it. A restore reloads the whole mirror.
 * PostgreSQL, where other replicas write, keeps asking the ledger.
 */
final class FilterMirror {

    /** One memory's filtered columns; {@code expireMs} is {@link Long#MAX_VALUE} for none. */
    private record Entry(String tenant, String user, String session, int kind, int state, long expireMs,
                         long referenceMs, Map<String, String> metadata) {

        boolean passes(MemoryFilter filter) {
            if (!tenant.equals(filter.tenant())) {
                return false;
            }
            if (!filter.user().isEmpty() && !user.isEmpty() && !user.equals(filter.user())) {
                return false;
            }
            if (!filter.session().isEmpty() && !session.isEmpty() && !session.equals(filter.session())) {
                return false;
            }
            if (!filter.kinds().isEmpty() && !filter.kinds().contains(kind)) {
                return false;
            }
            for (Map.Entry<String, String> pair : filter.metadata().entrySet()) {
                if (!pair.getValue().equals(metadata.get(pair.getKey()))) {
                    return false;
                }
            }
            return filter.includeInactive() || state == 1 && expireMs > filter.nowMs();
        }
    }

    private static final String COLUMNS =
            "m.id, m.tenant, m.user_id, m.session_id, m.kind, m.state, m.expire_ms, m.create_ms, m.access_ms";

    private static final String[] TRIGGERS = {
        "CREATE TEMP TABLE IF NOT EXISTS mirror_changed (id INTEGER PRIMARY KEY)",
        "CREATE TEMP TRIGGER IF NOT EXISTS mirror_memory_insert AFTER INSERT ON main.memories"
        + " BEGIN INSERT OR IGNORE INTO mirror_changed VALUES (NEW.id); END",
        "CREATE TEMP TRIGGER IF NOT EXISTS mirror_memory_update AFTER UPDATE ON main.memories"
        + " BEGIN INSERT OR IGNORE INTO mirror_changed VALUES (OLD.id); INSERT OR IGNORE INTO mirror_changed"
        + " VALUES (NEW.id); END",
        "CREATE TEMP TRIGGER IF NOT EXISTS mirror_memory_delete AFTER DELETE ON main.memories"
        + " BEGIN INSERT OR IGNORE INTO mirror_changed VALUES (OLD.id); END",
        "CREATE TEMP TRIGGER IF NOT EXISTS mirror_metadata_insert AFTER INSERT ON main.memory_metadata"
        + " BEGIN INSERT OR IGNORE INTO mirror_changed VALUES (NEW.memory_id); END",
        "CREATE TEMP TRIGGER IF NOT EXISTS mirror_metadata_update AFTER UPDATE ON main.memory_metadata"
        + " BEGIN INSERT OR IGNORE INTO mirror_changed VALUES (OLD.memory_id); INSERT OR IGNORE INTO mirror_changed"
        + " VALUES (NEW.memory_id); END",
        "CREATE TEMP TRIGGER IF NOT EXISTS mirror_metadata_delete AFTER DELETE ON main.memory_metadata"
        + " BEGIN INSERT OR IGNORE INTO mirror_changed VALUES (OLD.memory_id); END",
    };

    /** What {@link #read} gives for an id whose row is gone. */
    private static final Entry DELETED = new Entry("", "", "", 0, 0, 0, 0, Map.of());

    private final Map<Long, Entry> entries = new ConcurrentHashMap<>();
    // The writer's statements of {@link #changes}, prepared once (only the writer thread runs them).
    private PreparedStatement changed;
    private PreparedStatement changedMetadata;
    private PreparedStatement clearChanged;

    /**
     * Installs the triggers on the writer connection {@code writer} and loads every memory; call before any
     * other write, and again (on the writer, between group commits) after the whole ledger was replaced.
     */
    void load(Connection writer) throws SQLException {
        try (Statement statement = writer.createStatement()) {
            for (String sql : TRIGGERS) {
                statement.execute(sql);
            }
            statement.execute("DELETE FROM mirror_changed");
        }
        final Map<Long, Entry> all;
        try (PreparedStatement memories = writer.prepareStatement("SELECT " + COLUMNS + " FROM memories m");
             PreparedStatement metadata = writer.prepareStatement("SELECT memory_id, key, value FROM memory_metadata")) {
            all = read(memories, metadata);
        }
        entries.clear();
        entries.putAll(all);
    }

    /**
     * On the writer, inside the transaction about to commit: the rows its statements changed, as they are now,
     * to {@link Runnable#run} once the commit succeeded (an id without a row: deleted).
     */
    Runnable changes(Connection writer) throws SQLException {
        if (changed == null) {
            changed = writer.prepareStatement("SELECT c.id, m.tenant, m.user_id, m.session_id, m.kind, m.state,"
                                              + " m.expire_ms, m.create_ms, m.access_ms FROM mirror_changed c"
                                              + " LEFT JOIN memories m ON m.id = c.id");
            changedMetadata = writer.prepareStatement("SELECT d.memory_id, d.key, d.value FROM mirror_changed c"
                                                      + " JOIN memory_metadata d ON d.memory_id = c.id");
            clearChanged = writer.prepareStatement("DELETE FROM mirror_changed");
        }
        final Map<Long, Entry> rows = read(changed, changedMetadata);
        if (rows.isEmpty()) {
            return () -> { };
        }
        clearChanged.executeUpdate();
        return () -> rows.forEach((id, entry) -> {
            if (entry == DELETED) {
                entries.remove(id);
            } else {
                entries.put(id, entry);
            }
        });
    }

    /** {@link LedgerSql#eligibleReferences}, answered from the mirror. */
    Map<Long, Long> eligibleReferences(MemoryFilter filter, Collection<Long> ids) {
        final Map<Long, Long> references = new HashMap<>();
        for (Long id : ids) {
            final Entry entry = entries.get(id);
            if (entry != null && entry.passes(filter)) {
                references.put(id, entry.referenceMs());
            }
        }
        return references;
    }

    /** The rows of {@code memories} (an id with a null tenant: no row), with their metadata. */
    private static Map<Long, Entry> read(PreparedStatement memories, PreparedStatement metadata) throws SQLException {
        final Map<Long, Entry> read = new HashMap<>();
        try (ResultSet rs = memories.executeQuery()) {
            while (rs.next()) {
                final long id = rs.getLong(1);
                final String tenant = rs.getString(2);
                if (tenant == null) {
                    read.put(id, DELETED);
                    continue;
                }
                long expire = rs.getLong(7);
                if (rs.wasNull()) {
                    expire = Long.MAX_VALUE;
                }
                // Interned: a tenant's, user's or session's name is shared by many memories.
                read.put(id, new Entry(tenant.intern(), rs.getString(3).intern(), rs.getString(4).intern(), rs.getInt(5), rs.getInt(6), expire,
                                       Math.max(rs.getLong(8), rs.getLong(9)), Map.of()));
            }
        }
        if (read.isEmpty()) {
            return read;
        }
        final Map<Long, Map<String, String>> pairs = new HashMap<>();
        try (ResultSet rs = metadata.executeQuery()) {
            while (rs.next()) {
                pairs.computeIfAbsent(rs.getLong(1), id -> new HashMap<>()).put(rs.getString(2), rs.getString(3));
            }
        }
        pairs.forEach((id, map) -> read.computeIfPresent(id, (key, entry) -> entry == DELETED ? entry
                : new Entry(entry.tenant(), entry.user(), entry.session(), entry.kind(), entry.state(), entry.expireMs(),
                            entry.referenceMs(), Map.copyOf(map))));
        return read;
    }
}
