package ai.sonia.memory.store;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

import ai.sonia.runtime.store.Postgres;
import ai.sonia.runtime.store.PostgresPool;
import ai.sonia.runtime.store.Sql;

/**
 * The memory ledger on PostgreSQL (with {@code store.engine} postgres), shared by every memory replica: the
 * same rows as {@link SqliteMemoryStore} through the same statements ({@link LedgerSql}), each write one
 * transaction. Supersede, invalidate and forget lock the memory's row first and change it only in the state
 * they read, the TTL sweep skips rows another replica holds, and two replicas storing the same text in one
 * scope meet at the active-hash unique index: each change lands exactly once. A transaction that PostgreSQL
 * aborts for a deadlock or a serialization failure is run again (up to three times).
 *
 * <p>Every replica keeps an in-process search index; {@code memory_changes} is the feed they follow
 * ({@link #changesSince}). Backups are SQLite files of the ledger's schema ({@link PostgresBackupFiles}), so
 * they restore on either engine. The audit log ({@link LedgerAuditLog}) is append-only by trigger and stays
 * so through a restore. Schema: the Flyway migrations of {@code db/postgresql/memory/ledger}.
 */
public final class PostgresMemoryStore extends LedgerStore {

    /** PostgreSQL's side of the statements: ids as an array, rows locked by the writes that read them. */
    static final LedgerSql.Dialect DIALECT = new LedgerSql.Dialect() {
        @Override
        public String idIn(String column) {
            return column + " = ANY(?)";
        }

        @Override
        public void bindIds(PreparedStatement statement, int index, Collection<Long> ids) throws SQLException {
            statement.setArray(index, statement.getConnection().createArrayOf("bigint", ids.toArray()));
        }

        @Override
        public String byIdHint() {
            return "";
        }

        @Override
        public String forUpdate() {
            return " FOR UPDATE";
        }

        @Override
        public String forUpdateSkipLocked() {
            return " FOR UPDATE SKIP LOCKED";
        }

        @Override
        public String databaseBytes() {
            return "SELECT pg_total_relation_size('memories') + pg_total_relation_size('memory_metadata')"
                   + " + pg_total_relation_size('memory_vectors') + pg_total_relation_size('audit_records')"
                   + " + pg_total_relation_size('store_requests') + pg_total_relation_size('memory_changes')"
                   + " + pg_total_relation_size('memory_index_outbox')";
        }

        @Override
        public void changed(Connection c, String change, long id, String tenant, long nowMs) throws SQLException {
            PostgresMemoryStore.changed(c, change, id, tenant, nowMs);
        }
    };

    private final PostgresPool pool;
    private final Postgres.Settings settings;

    private PostgresMemoryStore(PostgresPool pool, Postgres.Settings settings, boolean outbox) {
        super(DIALECT, outbox);
        this.pool = pool;
        this.settings = settings;
    }

    /**
     * Connects to the settings' database and migrates the ledger's schema.
     *
     * @throws IllegalStateException when the database cannot be reached (naming its URL) or migrated
     */
    public static PostgresMemoryStore open(Postgres.Settings settings) {
        return open(settings, false);
    }

    /** {@link #open(Postgres.Settings)}, keeping the outbox of a shared search index when {@code outbox}. */
    public static PostgresMemoryStore open(Postgres.Settings settings, boolean outbox) {
        return new PostgresMemoryStore(PostgresPool.open(settings, "memory-ledger", SqliteMemoryStore.MIGRATIONS, "memory",
                                                         "ledger", LedgerAuditLog.APPEND_ONLY), settings, outbox);
    }

    /** The database, as the status page shows it (no credentials). */
    public String shownUrl() {
        return settings.shownUrl();
    }

    @Override
    public int forgetRequestsBefore(long beforeMs) {
        return pool.inTransaction(c -> {
            Sql.update(c, "DELETE FROM memory_changes WHERE create_ms < ?", beforeMs);
            return LedgerSql.forgetRequestsBefore(c, beforeMs);
        });
    }

    @Override
    <T> T read(LedgerFile.Work<T> work) {
        return pool.inTransaction(work::run);
    }

    @Override
    <T> T snapshot(LedgerFile.Work<T> work) {
        return pool.inSnapshot(work::run);
    }

    @Override
    <T> T write(LedgerFile.Work<T> work) {
        return pool.inTransaction(work::run);
    }

    // ---------------------------------------------------------------- the change feed

    /** Appends a change to the feed, in the transaction of the write it follows. */
    static void changed(Connection c, String change, long id, String tenant, long nowMs) throws SQLException {
        LedgerSql.appendChange(c, "memory_changes", change, id, tenant, nowMs);
    }

    /**
     * One replica at a time, by a transaction-scoped advisory lock of this schema's outbox (the others answer
     * -1 at once): the writes are read, applied and dropped in one transaction, so of two replicas neither
     * applies a write older than one the other applied. Writes that commit while this runs are read next time.
     */
    @Override
    public int drainIndexOutbox(int limit, Consumer<List<Change>> apply) {
        return pool.inTransaction(c -> {
            if (!Sql.query(c, rs -> rs.getBoolean(1),
                           "SELECT pg_try_advisory_xact_lock(hashtext(current_schema() || '.memory_index_outbox'))")
                    .get(0)) {
                return -1;
            }
            final List<Change> writes = LedgerSql.pendingIndexWrites(c, limit);
            if (!writes.isEmpty()) {
                apply.accept(writes);
                sql.indexWritesApplied(c, writes);
            }
            return writes.size();
        });
    }

    /** The oldest transaction still running: every change not yet visible is written by it or a later one. */
    @Override
    public long changeCursor() {
        return pool.inSnapshot(PostgresMemoryStore::oldestRunning);
    }

    private static long oldestRunning(Connection c) throws SQLException {
        try (PreparedStatement query = c.prepareStatement("SELECT pg_snapshot_xmin(pg_current_snapshot())::text");
             ResultSet rs = query.executeQuery()) {
            rs.next();
            return Long.parseLong(rs.getString(1));
        }
    }

    /**
     * The changes of every transaction from {@code cursor} (an oldest running transaction id) on, read on one
     * snapshot whose own oldest running transaction is the next cursor: a change that commits after this read
     * belongs to a transaction at or after it, however its {@code seq} compares. Only the changes not
     * {@code known} carry their memory's text and vector (those read again cost one small row each).
     */
    @Override
    public Changes changesSince(long cursor, Set<Long> known) {
        return pool.inSnapshot(c -> {
            final long next = oldestRunning(c); // the first statement: it fixes the snapshot
            final Set<Long> seen = new HashSet<>();
            final List<Change> fresh = new ArrayList<>();
            try (PreparedStatement query = c.prepareStatement(
                    "SELECT seq, change, memory_id, tenant FROM memory_changes WHERE xid >= ?::text::xid8"
                    + " ORDER BY seq")) {
                query.setString(1, Long.toString(cursor));
                try (ResultSet rs = query.executeQuery()) {
                    while (rs.next()) {
                        final long seq = rs.getLong(1);
                        seen.add(seq);
                        if (!known.contains(seq)) {
                            fresh.add(new Change(seq, Change.Kind.valueOf(rs.getString(2)), rs.getLong(3),
                                                 rs.getString(4), "", new float[0]));
                        }
                    }
                }
            }
            final Map<Long, Change> added = new HashMap<>();
            try (PreparedStatement query = c.prepareStatement(
                    "SELECT m.id, m.text, v.vector FROM memories m JOIN memory_vectors v ON v.memory_id = m.id"
                    + " WHERE m.id = ANY(?)")) {
                DIALECT.bindIds(query, 1, fresh.stream().filter(ch -> ch.kind() == Change.Kind.ADD)
                                               .map(Change::id).toList());
                try (ResultSet rs = query.executeQuery()) {
                    while (rs.next()) {
                        added.put(rs.getLong(1), new Change(0, Change.Kind.ADD, rs.getLong(1), "", rs.getString(2),
                                                            LedgerSql.toFloats(rs.getBytes(3))));
                    }
                }
            }
            final List<Change> changes = new ArrayList<>(fresh.size());
            for (Change ch : fresh) {
                final Change memory = added.get(ch.id());
                if (ch.kind() != Change.Kind.ADD) {
                    changes.add(ch);
                } else if (memory != null) {
                    changes.add(new Change(ch.seq(), ch.kind(), ch.id(), ch.tenant(), memory.text(), memory.vector()));
                } else {
                    // A memory added and forgotten since is as good as removed.
                    changes.add(new Change(ch.seq(), Change.Kind.REMOVE, ch.id(), ch.tenant(), "", new float[0]));
                }
            }
            return new Changes(changes, next, seen);
        });
    }

    // ---------------------------------------------------------------- backups

    @Override
    public void backup(Path target) {
        pool.inSnapshot(c -> {
            PostgresBackupFiles.export(c, target);
            return null;
        });
    }

    @Override
    public void restore(Path source) {
        PostgresBackupFiles.restore(pool, source);
    }

    @Override
    public void close() {
        pool.close();
    }
}
