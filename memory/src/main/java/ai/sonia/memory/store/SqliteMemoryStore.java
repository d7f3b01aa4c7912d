package ai.sonia.memory.store;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

import ai.sonia.common.v1.Scope;
import ai.sonia.memory.domain.Actor;
import ai.sonia.memory.domain.AuditLog;
import ai.sonia.memory.domain.LedgerView;
import ai.sonia.memory.domain.MemoryFilter;
import ai.sonia.memory.domain.MemoryStore;
import ai.sonia.memory.v1.MemoryStats;
import ai.sonia.runtime.store.Migrations;

/**
 * The memory ledger in one SQLite file ({@link LedgerFile}): memories, their metadata and vectors, and the
 * audit log ({@link SqliteAuditLog}), whose records are written in
 * the same transaction as the change they record. Reads run on pooled readers; every write goes through
 * the one writer's group commit. The statements are {@link LedgerSql}'s, as on PostgreSQL.
 */
public final class SqliteMemoryStore implements MemoryStore {

    /** Where the ledger's migrations live, and the latest of them (the V number of the newest file there). */
    static final String MIGRATIONS = "db/memory/ledger";
    static final int SCHEMA_VERSION = 4;

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
    private final SqliteAuditLog auditLog;
    private final boolean outbox;
    private final LedgerSql sql;

    private SqliteMemoryStore(LedgerFile file, boolean outbox) {
        this.file = file;
        this.outbox = outbox;
        sql = new LedgerSql(DIALECT, outbox);
        auditLog = new SqliteAuditLog(file);
    }

    /** Opens (creating and migrating if needed) the ledger at {@code file}. */
    public static SqliteMemoryStore open(Path file, int readers, boolean fullSync) {
        return open(file, readers, fullSync, false);
    }

    /** {@link #open(Path, int, boolean)}, keeping the outbox of a shared search index when {@code outbox}. */
    public static SqliteMemoryStore open(Path file, int readers, boolean fullSync, boolean outbox) {
        return new SqliteMemoryStore(new LedgerFile(file, readers, fullSync, c -> {
            migrate(c);
            return null;
        }), outbox);
    }

    /**
     * Brings the ledger on {@code connection} up to {@link #SCHEMA_VERSION} with Flyway; a ledger made before
     * Flyway (its schema version in {@code PRAGMA user_version}) is adopted at that version.
     */
    static void migrate(Connection connection) throws SQLException {
        Migrations.migrate(connection, MIGRATIONS, null, Migrations.USER_VERSION);
    }

    /** The audit log in the same file. */
    public AuditLog auditLog() {
        return auditLog;
    }

    /** The database file. */
    public Path file() {
        return file.file();
    }

    // ---------------------------------------------------------------- reads

    @Override
    public Optional<Row> byName(String name, long nowMs) {
        return file.read(c -> sql.byName(c, name, nowMs));
    }

    @Override
    public Optional<Row> activeByHash(Scope scope, String hash, long nowMs) {
        return file.read(c -> sql.activeByHash(c, scope, hash, nowMs));
    }

    @Override
    public List<Row> list(MemoryFilter filter, long beforeId, int limit) {
        return file.read(c -> sql.list(c, filter, beforeId, limit));
    }

    @Override
    public Map<Long, Row> eligible(MemoryFilter filter, Collection<Long> ids) {
        return file.read(c -> sql.eligible(c, filter, ids));
    }

    @Override
    public Map<Long, Long> eligibleReferences(MemoryFilter filter, Collection<Long> ids) {
        return file.read(c -> sql.eligibleReferences(c, filter, ids));
    }

    @Override
    public void vectors(VectorSink sink) {
        file.read(c -> {
            LedgerSql.vectors(c, sink);
            return null;
        });
    }

    @Override
    public void documents(DocumentSink sink) {
        file.read(c -> {
            LedgerSql.documents(c, sink);
            return null;
        });
    }

    @Override
    public MemoryStats stats(LedgerView view, long nowMs) {
        return file.read(c -> sql.stats(c, view, nowMs));
    }

    @Override
    public List<String> otherVectorModels(String model, int limit) {
        return file.read(c -> LedgerSql.otherVectorModels(c, model, limit));
    }

    @Override
    public long count() {
        return file.read(LedgerSql::count);
    }

    @Override
    public Optional<Stored> byRequest(String principal, String requestId, long sinceMs, long nowMs) {
        return file.read(c -> sql.byRequest(c, principal, requestId, sinceMs, nowMs));
    }

    // ---------------------------------------------------------------- writes

    @Override
    public Stored store(NewMemory memory, Actor actor, long nowMs) {
        return file.write(c -> sql.store(c, memory, actor, nowMs));
    }

    @Override
    public int forgetRequestsBefore(long beforeMs) {
        return file.write(c -> LedgerSql.forgetRequestsBefore(c, beforeMs));
    }

    @Override
    public List<Stored> storeAll(List<NewMemory> memories, Actor actor, long nowMs) {
        return file.write(c -> sql.storeAll(c, memories, actor, nowMs));
    }

    @Override
    public Row invalidate(String name, String reason, Actor actor, long nowMs) {
        return file.write(c -> sql.invalidate(c, name, reason, actor, nowMs));
    }

    @Override
    public Forgotten forget(String name, String reason, Actor actor, long nowMs) {
        return file.write(c -> sql.forget(c, name, reason, actor, nowMs));
    }

    @Override
    public List<Expired> expireDue(Actor actor, long nowMs, int limit) {
        return file.write(c -> sql.expireDue(c, actor, nowMs, limit));
    }

    @Override
    public void touch(Map<Long, long[]> accesses) {
        file.write(c -> {
            LedgerSql.touch(c, accesses);
            return null;
        });
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
    public boolean keepsIndexOutbox() {
        return outbox;
    }

    /** One process writes this file: its index serialises the drains, so read, apply, then drop. */
    @Override
    public int drainIndexOutbox(int limit, Consumer<List<Change>> apply) {
        final List<Change> writes = file.read(c -> LedgerSql.pendingIndexWrites(c, limit));
        if (writes.isEmpty()) {
            return 0;
        }
        apply.accept(writes);
        file.write(c -> {
            sql.indexWritesApplied(c, writes);
            return null;
        });
        return writes.size();
    }

    @Override
    public String restoreProblem(Path source) {
        return BackupFiles.problem(source);
    }

    @Override
    public void restore(Path source) {
        file.exclusive(c -> {
            BackupFiles.restore(c, source);
            return null;
        });
    }

    @Override
    public void close() {
        file.close();
    }
}
