package ai.sonia.memory.store;

import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import ai.sonia.common.v1.Scope;
import ai.sonia.memory.domain.Actor;
import ai.sonia.memory.domain.AuditLog;
import ai.sonia.memory.domain.LedgerView;
import ai.sonia.memory.domain.MemoryFilter;
import ai.sonia.memory.domain.MemoryStore;
import ai.sonia.memory.v1.MemoryStats;

/**
 * The memory ledger on either engine: every step is {@link LedgerSql}'s statements, run by the engine as a
 * {@link #read}, a {@link #snapshot} (a read that must see one state) or a {@link #write}, each one
 * transaction; and its {@link LedgerAuditLog}. {@link SqliteMemoryStore} and {@link PostgresMemoryStore} add
 * how they run a step, backups, and (PostgreSQL) the change feed.
 */
abstract class LedgerStore implements MemoryStore {

    final LedgerSql sql;
    private final boolean outbox;
    private final AuditLog auditLog = new LedgerAuditLog(this);

    /** With {@code outbox}, each store and forget also records the write a shared search index is owed. */
    LedgerStore(LedgerSql.Dialect dialect, boolean outbox) {
        this.sql = new LedgerSql(dialect, outbox);
        this.outbox = outbox;
    }

    @Override
    public boolean keepsIndexOutbox() {
        return outbox;
    }

    /** Runs a read. */
    abstract <T> T read(LedgerFile.Work<T> work);

    /** Runs a read that sees one state of the whole ledger (large results may stream). */
    abstract <T> T snapshot(LedgerFile.Work<T> work);

    /** Runs a write: committed when it returns, nothing written when it throws. */
    abstract <T> T write(LedgerFile.Work<T> work);

    /** A backup is a SQLite ledger file on either engine, checked the same way. */
    @Override
    public String restoreProblem(Path source) {
        return BackupFiles.problem(source);
    }

    /** The audit log in the same database. */
    public AuditLog auditLog() {
        return auditLog;
    }

    // ---------------------------------------------------------------- reads

    @Override
    public Optional<Row> byName(String name, long nowMs) {
        return read(c -> sql.byName(c, name, nowMs));
    }

    @Override
    public Optional<Row> activeByHash(Scope scope, String hash, long nowMs) {
        return read(c -> sql.activeByHash(c, scope, hash, nowMs));
    }

    @Override
    public List<Row> list(MemoryFilter filter, long beforeId, int limit) {
        return read(c -> sql.list(c, filter, beforeId, limit));
    }

    @Override
    public Map<Long, Row> eligible(MemoryFilter filter, Collection<Long> ids) {
        return read(c -> sql.eligible(c, filter, ids));
    }

    @Override
    public Map<Long, Long> eligibleReferences(MemoryFilter filter, Collection<Long> ids) {
        return read(c -> sql.eligibleReferences(c, filter, ids));
    }

    @Override
    public void vectors(VectorSink sink) {
        snapshot(c -> {
            LedgerSql.vectors(c, sink);
            return null;
        });
    }

    @Override
    public void documents(DocumentSink sink) {
        snapshot(c -> {
            LedgerSql.documents(c, sink);
            return null;
        });
    }

    @Override
    public MemoryStats stats(LedgerView view, long nowMs) {
        return snapshot(c -> sql.stats(c, view, nowMs));
    }

    @Override
    public List<String> otherVectorModels(String model, int limit) {
        return read(c -> LedgerSql.otherVectorModels(c, model, limit));
    }

    @Override
    public long count() {
        return read(LedgerSql::count);
    }

    @Override
    public Optional<Stored> byRequest(String principal, String requestId, long sinceMs, long nowMs) {
        return read(c -> sql.byRequest(c, principal, requestId, sinceMs, nowMs));
    }

    // ---------------------------------------------------------------- writes

    @Override
    public Stored store(NewMemory memory, Actor actor, long nowMs) {
        return write(c -> sql.store(c, memory, actor, nowMs));
    }

    @Override
    public List<Stored> storeAll(List<NewMemory> memories, Actor actor, long nowMs) {
        return write(c -> sql.storeAll(c, memories, actor, nowMs));
    }

    @Override
    public int forgetRequestsBefore(long beforeMs) {
        return write(c -> LedgerSql.forgetRequestsBefore(c, beforeMs));
    }

    @Override
    public Row invalidate(String name, String reason, Actor actor, long nowMs) {
        return write(c -> sql.invalidate(c, name, reason, actor, nowMs));
    }

    @Override
    public Forgotten forget(String name, String reason, Actor actor, long nowMs) {
        return write(c -> sql.forget(c, name, reason, actor, nowMs));
    }

    @Override
    public List<Expired> expireDue(Actor actor, long nowMs, int limit) {
        return write(c -> sql.expireDue(c, actor, nowMs, limit));
    }

    @Override
    public void touch(Map<Long, long[]> accesses) {
        write(c -> {
            LedgerSql.touch(c, accesses);
            return null;
        });
    }
}
