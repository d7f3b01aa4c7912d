package ai.sonia.memory.store;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import ai.sonia.memory.domain.MemoryFilter;
import ai.sonia.runtime.store.Migrations;

/**
 * The memory ledger in one SQLite file ({@link LedgerFile}): memories, their metadata and vectors, and the
 * audit log ({@link LedgerAuditLog}), whose records are written in
 * the same transaction as the change they record. Reads run on pooled readers; every write goes through
 * the one writer's group commit. The statements are {@link LedgerSql}'s, as on PostgreSQL.
 */
public final class SqliteMemoryStore extends LedgerStore {

    /** Where the ledger's migrations live, and the latest of them (the V number of the newest file there). */
    static final String MIGRATIONS = "db/memory/ledger";
    static final int SCHEMA_VERSION = 6;

    /** SQLite's side of the statements: one writer, so no row locks, and no other replica to tell. */
    private static final LedgerSql.Dialect DIALECT = new LedgerSql.Dialect() {
        @Override
        public String idIn(String column) {
            return column + " IN (SELECT value FROM json_each(?))";
        }

        @Override
        public void bindIds(PreparedStatement statement, int index, Collection<Long> ids) throws SQLException {
            statement.setString(index, ids.toString());
        }

        @Override
        public String byIdHint() {
            // Look the ids up by primary key; the planner would otherwise scan the tenant's index.
            return " NOT INDEXED";
        }

        @Override
        public String forUpdate() {
            return "";
        }

        @Override
        public String forUpdateSkipLocked() {
            return "";
        }

        @Override
        public String databaseBytes() {
            return "SELECT page_count * page_size FROM pragma_page_count, pragma_page_size";
        }

        @Override
        public void changed(Connection c, String change, long id, String tenant, long nowMs) {
            // The index of the one process that writes this file is told by its engine.
        }
    };

    private final LedgerFile file;
    private final FilterMirror mirror;

    private SqliteMemoryStore(LedgerFile file, FilterMirror mirror, boolean outbox) {
        super(DIALECT, outbox);
        this.file = file;
        this.mirror = mirror;
    }

    /** Opens (creating and migrating if needed) the ledger at {@code file}. */
    public static SqliteMemoryStore open(Path file, int readers, boolean fullSync) {
        return open(file, readers, fullSync, false);
    }

    /** {@link #open(Path, int, boolean)}, keeping the outbox of a shared search index when {@code outbox}. */
    public static SqliteMemoryStore open(Path file, int readers, boolean fullSync, boolean outbox) {
        final FilterMirror mirror = new FilterMirror();
        return new SqliteMemoryStore(new LedgerFile(file, readers, fullSync, c -> {
            migrate(c);
            mirror.load(c);
            return null;
        }, mirror::changes), mirror, outbox);
    }

    /**
     * Brings the ledger on {@code connection} up to {@link #SCHEMA_VERSION} with Flyway; a ledger made before
     * Flyway (its schema version in {@code PRAGMA user_version}) is adopted at that version.
     */
    static void migrate(Connection connection) throws SQLException {
        Migrations.migrate(connection, MIGRATIONS, null, Migrations.USER_VERSION, LedgerAuditLog.APPEND_ONLY);
    }

    @Override
    <T> T read(LedgerFile.Work<T> work) {
        return file.read(work);
    }

    @Override
    <T> T snapshot(LedgerFile.Work<T> work) {
        return file.read(work);
    }

    @Override
    <T> T write(LedgerFile.Work<T> work) {
        return file.write(work);
    }

    /**
     * Ranking's check of its candidates, from the {@link FilterMirror} of this process (the one that writes
     * the file) instead of a query; the hits returned are still read from the ledger by {@link #eligible}.
     */
    @Override
    public Map<Long, Long> eligibleReferences(MemoryFilter filter, Collection<Long> ids) {
        return mirror.eligibleReferences(filter, ids);
    }

    /** The database file. */
    public Path file() {
        return file.file();
    }

    /** One process writes this file: its index serialises the drains, so read, apply, then drop. */
    @Override
    public int drainIndexOutbox(int limit, Consumer<List<Change>> apply) {
        final List<Change> writes = read(c -> LedgerSql.pendingIndexWrites(c, limit));
        if (writes.isEmpty()) {
            return 0;
        }
        apply.accept(writes);
        write(c -> {
            sql.indexWritesApplied(c, writes);
            return null;
        });
        return writes.size();
    }

    // ---------------------------------------------------------------- backups

    @Override
    public void backup(Path target) {
        file.exclusive(c -> {
            BackupFiles.backup(c, target);
            return null;
        });
    }

    @Override
    public void restore(Path source) {
        file.exclusive(c -> {
            try {
                BackupFiles.restore(c, source);
            } finally {
                // Whatever the ledger holds now, even after a failed restore.
                mirror.load(c);
            }
            return null;
        });
    }

    @Override
    public void close() {
        file.close();
    }
}
