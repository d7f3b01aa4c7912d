package ai.sonia.memory.store;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;

import com.google.protobuf.util.Timestamps;

import ai.sonia.common.v1.Scope;
import ai.sonia.memory.domain.Actor;
import ai.sonia.memory.domain.LedgerView;
import ai.sonia.memory.domain.MemoryFilter;
import ai.sonia.memory.domain.MemoryStore.Change;
import ai.sonia.memory.domain.MemoryStore.DocumentSink;
import ai.sonia.memory.domain.MemoryStore.Expired;
import ai.sonia.memory.domain.MemoryStore.Forgotten;
import ai.sonia.memory.domain.MemoryStore.NewMemory;
import ai.sonia.memory.domain.MemoryStore.Quota;
import ai.sonia.memory.domain.MemoryStore.Row;
import ai.sonia.memory.domain.MemoryStore.Stored;
import ai.sonia.memory.domain.MemoryStore.VectorSink;
import ai.sonia.memory.v1.AuditAction;
import ai.sonia.memory.v1.AuditRecord;
import ai.sonia.memory.v1.Memory;
import ai.sonia.memory.v1.MemoryKind;
import ai.sonia.memory.v1.MemoryState;
import ai.sonia.memory.v1.MemoryStats;
import ai.sonia.runtime.errors.DomainException;
import ai.sonia.runtime.store.Sql;

/**
 * The memory ledger's statements on one connection, inside the caller's transaction: the same SQL on SQLite
 * ({@link SqliteMemoryStore}) and PostgreSQL ({@link PostgresMemoryStore}) but for their {@link Dialect}. A
 * write reads the rows it changes under the dialect's row lock, and each change is conditional on the state
 * it read, so two replicas on one PostgreSQL change one memory exactly once.
 */
final class LedgerSql {

    /** What differs between the engines. */
    interface Dialect {

        /** A condition that {@code column} is one of the ids {@link #bindIds} binds to one parameter. */
        String idIn(String column);

        void bindIds(PreparedStatement statement, int index, Collection<Long> ids) throws SQLException;

        /** Planner advice after {@code memories m} when rows are looked up by id (SQLite's NOT INDEXED). */
        String byIdHint();

        /** The clause that locks the rows a write reads until its commit (empty where one writer runs). */
        String forUpdate();

        /** The same, skipping rows another transaction holds (the TTL sweep of two replicas). */
        String forUpdateSkipLocked();

        /** A query of the ledger's size in bytes. */
        String databaseBytes();

        /** Records that the searchable set changed by {@code change} (ADD or REMOVE) of memory {@code id}. */
        void changed(Connection c, String change, long id, String tenant, long nowMs) throws SQLException;
    }

    static final String COLUMNS =
            "m.id, m.name, m.tenant, m.user_id, m.session_id, m.kind, m.text, m.content_hash, m.source, m.trust,"
            + " m.state, m.create_ms, m.access_ms, m.access_count, m.valid_from_ms, m.valid_to_ms, m.expire_ms,"
            + " m.supersedes, m.superseded_by";

    /** The later of the creation and the last access: what decay counts from. */
    private static final String REFERENCE = "CASE WHEN m.create_ms > m.access_ms THEN m.create_ms ELSE m.access_ms END";

    private final Dialect dialect;
    // Whether each ADD and REMOVE is also owed to a shared search index (memory_index_outbox).
    private final boolean outbox;

    LedgerSql(Dialect dialect, boolean outbox) {
        this.dialect = dialect;
        this.outbox = outbox;
    }

    /** Records a change of the searchable set: for the engine's feed, and in the index's outbox when kept. */
    private void changed(Connection c, String change, long id, String tenant, long nowMs) throws SQLException {
        dialect.changed(c, change, id, tenant, nowMs);
        if (outbox) {
            appendChange(c, "memory_index_outbox", change, id, tenant, nowMs);
        }
    }

    /** Appends a change (ADD, REMOVE, RELOAD) of memory {@code id} to {@code table}: a feed or the outbox. */
    static void appendChange(Connection c, String table, String change, long id, String tenant, long nowMs)
            throws SQLException {
        Sql.update(c, "INSERT INTO " + table + " (change, memory_id, tenant, create_ms) VALUES (?, ?, ?, ?)", change, id,
                   tenant, nowMs);
    }

    /**
     * The oldest {@code limit} writes the index outbox holds, in {@code seq} order, each as its memory is now: an
     * ADD with its text and vector, or a REMOVE (an ADD whose memory is gone since is one too).
     */
    static List<Change> pendingIndexWrites(Connection c, int limit) throws SQLException {
        final List<Change> writes = new ArrayList<>();
        try (PreparedStatement query = c.prepareStatement(
                "SELECT o.seq, o.change, o.memory_id, o.tenant, m.text, v.vector FROM memory_index_outbox o"
                + " LEFT JOIN memories m ON m.id = o.memory_id LEFT JOIN memory_vectors v ON v.memory_id = o.memory_id"
                + " ORDER BY o.seq LIMIT ?")) {
            query.setInt(1, limit);
            try (ResultSet rs = query.executeQuery()) {
                while (rs.next()) {
                    final byte[] vector = rs.getBytes(6);
                    final boolean add = "ADD".equals(rs.getString(2)) && rs.getString(5) != null && vector != null;
                    writes.add(add ? new Change(rs.getLong(1), Change.Kind.ADD, rs.getLong(3), rs.getString(4),
                                                rs.getString(5), toFloats(vector))
                                   : new Change(rs.getLong(1), Change.Kind.REMOVE, rs.getLong(3), rs.getString(4),
                                                "", new float[0]));
                }
            }
        }
        return writes;
    }

    /** Drops the outbox's entries of {@code writes}, which the index acknowledged. */
    void indexWritesApplied(Connection c, List<Change> writes) throws SQLException {
        try (PreparedStatement delete = c.prepareStatement(
                "DELETE FROM memory_index_outbox WHERE " + dialect.idIn("seq"))) {
            dialect.bindIds(delete, 1, writes.stream().map(Change::seq).toList());
            delete.executeUpdate();
        }
    }

    // ---------------------------------------------------------------- reads

    Optional<Row> byName(Connection c, String name, long nowMs) throws SQLException {
        return byName(c, name, nowMs, "");
    }

    /** {@link #byName} with the row locked until the commit. */
    private Optional<Row> lockedByName(Connection c, String name, long nowMs) throws SQLException {
        return byName(c, name, nowMs, dialect.forUpdate());
    }

    private Optional<Row> byName(Connection c, String name, long nowMs, String lock) throws SQLException {
        try (PreparedStatement query = c.prepareStatement(
                "SELECT " + COLUMNS + " FROM memories m WHERE m.name = ?" + lock)) {
            query.setString(1, name);
            return first(c, query, nowMs);
        }
    }

    Optional<Row> activeByHash(Connection c, Scope scope, String hash, long nowMs) throws SQLException {
        try (PreparedStatement query = c.prepareStatement(
                "SELECT " + COLUMNS + " FROM memories m WHERE m.tenant = ? AND m.user_id = ? AND m.session_id = ?"
                + " AND m.content_hash = ? AND m.state = 1")) {
            query.setString(1, scope.getTenant());
            query.setString(2, scope.getUser());
            query.setString(3, scope.getSession());
            query.setString(4, hash);
            return first(c, query, nowMs);
        }
    }

    List<Row> list(Connection c, MemoryFilter filter, long beforeId, int limit) throws SQLException {
        final String sql = "SELECT " + COLUMNS + " FROM memories m WHERE " + sql(filter)
                           + (beforeId > 0 ? " AND m.id < ?" : "") + " ORDER BY m.id DESC LIMIT ?";
        try (PreparedStatement query = c.prepareStatement(sql)) {
            int index = bind(filter, query, 1);
            if (beforeId > 0) {
                query.setLong(index++, beforeId);
            }
            query.setInt(index, limit);
            return all(c, query, filter.nowMs());
        }
    }

    Map<Long, Row> eligible(Connection c, MemoryFilter filter, Collection<Long> ids) throws SQLException {
        final Map<Long, Row> rows = new HashMap<>();
        if (ids.isEmpty()) {
            return rows;
        }
        try (PreparedStatement query = c.prepareStatement(
                "SELECT " + COLUMNS + " FROM memories m" + dialect.byIdHint() + " WHERE " + sql(filter) + " AND "
                + dialect.idIn("m.id"))) {
            dialect.bindIds(query, bind(filter, query, 1), ids);
            for (Row row : all(c, query, filter.nowMs())) {
                rows.put(row.id(), row);
            }
        }
        return rows;
    }

    Map<Long, Long> eligibleReferences(Connection c, MemoryFilter filter, Collection<Long> ids) throws SQLException {
        final Map<Long, Long> references = new HashMap<>();
        if (ids.isEmpty()) {
            return references;
        }
        try (PreparedStatement query = c.prepareStatement(
                "SELECT m.id, " + REFERENCE + " FROM memories m" + dialect.byIdHint() + " WHERE " + sql(filter)
                + " AND " + dialect.idIn("m.id"))) {
            dialect.bindIds(query, bind(filter, query, 1), ids);
            try (ResultSet rs = query.executeQuery()) {
                while (rs.next()) {
                    references.put(rs.getLong(1), rs.getLong(2));
                }
            }
        }
        return references;
    }

    static void vectors(Connection c, VectorSink sink) throws SQLException {
        try (Statement statement = c.createStatement()) {
            statement.setFetchSize(1_000);
            try (ResultSet rs = statement.executeQuery(
                    "SELECT memory_id, tenant, vector FROM memory_vectors ORDER BY memory_id")) {
                while (rs.next()) {
                    sink.accept(rs.getLong(1), rs.getString(2), toFloats(rs.getBytes(3)));
                }
            }
        }
    }

    static void documents(Connection c, DocumentSink sink) throws SQLException {
        try (Statement statement = c.createStatement()) {
            statement.setFetchSize(1_000);
            try (ResultSet rs = statement.executeQuery(
                    "SELECT v.memory_id, v.tenant, m.text, v.vector FROM memory_vectors v"
                    + " JOIN memories m ON m.id = v.memory_id ORDER BY v.memory_id")) {
                while (rs.next()) {
                    sink.accept(rs.getLong(1), rs.getString(2), rs.getString(3), toFloats(rs.getBytes(4)));
                }
            }
        }
    }

    static List<String> otherVectorModels(Connection c, String model, int limit) throws SQLException {
        final List<String> models = new ArrayList<>();
        try (PreparedStatement query = c.prepareStatement(
                "SELECT DISTINCT model FROM memory_vectors WHERE model <> ? LIMIT ?")) {
            query.setString(1, model);
            query.setInt(2, limit);
            try (ResultSet rows = query.executeQuery()) {
                while (rows.next()) {
                    models.add(rows.getString(1));
                }
            }
        }
        return models;
    }

    static long count(Connection c) throws SQLException {
        return count(c, "SELECT count(*) FROM memories", List.of());
    }

    Optional<Stored> byRequest(Connection c, String principal, String requestId, long sinceMs, long nowMs)
            throws SQLException {
        final String name;
        final boolean created;
        try (PreparedStatement query = c.prepareStatement(
                "SELECT memory, created FROM store_requests WHERE principal = ? AND request_id = ?"
                + " AND create_ms >= ?")) {
            query.setString(1, principal);
            query.setString(2, requestId);
            query.setLong(3, sinceMs);
            try (ResultSet rs = query.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                name = rs.getString(1);
                created = rs.getInt(2) != 0;
            }
        }
        return byName(c, name, nowMs).map(row -> new Stored(row, created));
    }

    MemoryStats stats(Connection c, LedgerView view, long nowMs) throws SQLException {
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
        stats.setDatabaseBytes(count(c, dialect.databaseBytes(), List.of()));
        return stats.build();
    }

    // ---------------------------------------------------------------- writes

    Stored store(Connection c, NewMemory m, Actor actor, long nowMs) throws SQLException {
        final Memory memory = m.memory();
        expireDueDuplicate(c, m, actor, nowMs);
        final Optional<Row> existing = activeByHash(c, memory.getScope(), m.contentHash(), nowMs);
        if (existing.isPresent() && existing.get().memory().getName().equals(m.supersedes())) {
            return remember(c, m, actor, nowMs, new Stored(existing.get(), false));
        }
        final Row superseded = m.supersedes().isEmpty() ? null : supersedable(c, m, nowMs);
        if (existing.isPresent()) {
            return storedAlready(c, m, existing.get(), superseded, actor, nowMs);
        }
        final String name = "memories/" + UUID.randomUUID().toString().replace("-", "");
        final Long id = insert(c, m, name, superseded, nowMs);
        if (id == null) {
            // Another replica stored the same text in this scope since the read above: that one stands.
            final Row winner = activeByHash(c, memory.getScope(), m.contentHash(), nowMs).orElseThrow(
                    () -> new IllegalStateException("an active memory of hash " + m.contentHash() + " vanished"));
            return storedAlready(c, m, winner, superseded, actor, nowMs);
        }
        checkQuota(c, m);
        try (PreparedStatement insert = c.prepareStatement(
                "INSERT INTO memory_metadata (memory_id, key, value) VALUES (?, ?, ?)")) {
            for (Map.Entry<String, String> pair : memory.getMetadataMap().entrySet()) {
                insert.setLong(1, id);
                insert.setString(2, pair.getKey());
                insert.setString(3, pair.getValue());
                insert.addBatch();
            }
            insert.executeBatch();
        }
        try (PreparedStatement insert = c.prepareStatement(
                "INSERT INTO memory_vectors (memory_id, tenant, model, vector) VALUES (?, ?, ?, ?)")) {
            insert.setLong(1, id);
            insert.setString(2, memory.getScope().getTenant());
            insert.setString(3, m.model());
            insert.setBytes(4, toBytes(m.vector()));
            insert.executeUpdate();
        }
        appendAudit(c, "STORE", name, memory.getScope().getTenant(), actor, nowMs,
                    "kind=" + memory.getKind().name() + " hash=" + m.contentHash());
        changed(c, "ADD", id, memory.getScope().getTenant(), nowMs);
        if (superseded != null) {
            close(c, superseded, name, actor, nowMs);
        }
        return remember(c, m, actor, nowMs, new Stored(byName(c, name, nowMs).orElseThrow(), true));
    }

    /** {@link #store} of each, in the caller's one transaction. */
    List<Stored> storeAll(Connection c, List<NewMemory> memories, Actor actor, long nowMs) throws SQLException {
        final List<Stored> stored = new ArrayList<>(memories.size());
        for (NewMemory memory : memories) {
            stored.add(store(c, memory, actor, nowMs));
        }
        return stored;
    }

    /**
     * Refuses the memory just inserted when its owner now holds more than its quota allows (the insert's trigger
     * counted it in {@code memory_usage}, whose row the insert keeps locked until the transaction ends).
     */
    private static void checkQuota(Connection c, NewMemory m) throws SQLException {
        if (m.quota().equals(Quota.NONE)) {
            return;
        }
        try (PreparedStatement select = c.prepareStatement(
                "SELECT memories, text_chars FROM memory_usage WHERE tenant = ? AND user_id = ?")) {
            select.setString(1, m.memory().getScope().getTenant());
            select.setString(2, m.memory().getScope().getUser());
            try (ResultSet rs = select.executeQuery()) {
                if (!rs.next()) {
                    throw new IllegalStateException("memory_usage has no row for a memory just stored");
                }
                m.quota().check(rs.getLong(1), rs.getLong(2));
            }
        }
    }

    /** The row's id, or null when an active memory of the same scope and hash is there already. */
    private static Long insert(Connection c, NewMemory m, String name, Row superseded, long nowMs)
            throws SQLException {
        final Memory memory = m.memory();
        try (PreparedStatement insert = c.prepareStatement(
                "INSERT INTO memories (name, tenant, user_id, session_id, kind, text, content_hash, source, trust,"
                + " state, create_ms, access_ms, valid_from_ms, expire_ms, supersedes)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?)"
                + " ON CONFLICT (tenant, user_id, session_id, content_hash) WHERE state = 1 DO NOTHING RETURNING id")) {
            insert.setString(1, name);
            insert.setString(2, memory.getScope().getTenant());
            insert.setString(3, memory.getScope().getUser());
            insert.setString(4, memory.getScope().getSession());
            insert.setInt(5, memory.getKindValue());
            insert.setString(6, memory.getText());
            insert.setString(7, m.contentHash());
            insert.setString(8, memory.getSource());
            insert.setString(9, memory.getTrust());
            insert.setLong(10, nowMs);
            insert.setLong(11, nowMs);
            insert.setLong(12, nowMs);
            if (m.expireMs() != null) {
                insert.setLong(13, m.expireMs());
            } else {
                insert.setNull(13, Types.BIGINT);
            }
            insert.setString(14, superseded != null ? superseded.memory().getName() : "");
            try (ResultSet rs = insert.executeQuery()) {
                return rs.next() ? rs.getLong(1) : null;
            }
        }
    }

    /** The outcome of a store whose text the scope holds already: that memory, succeeding {@code superseded}. */
    private Stored storedAlready(Connection c, NewMemory m, Row existing, Row superseded, Actor actor, long nowMs)
            throws SQLException {
        if (superseded != null && !superseded.memory().getName().equals(existing.memory().getName())) {
            close(c, superseded, existing.memory().getName(), actor, nowMs);
        }
        return remember(c, m, actor, nowMs, new Stored(existing, false));
    }

    /** Records the store's outcome under its request id, if it has one. */
    private static Stored remember(Connection c, NewMemory m, Actor actor, long nowMs, Stored stored)
            throws SQLException {
        if (!m.requestId().isEmpty()) {
            try (PreparedStatement insert = c.prepareStatement(
                    "INSERT INTO store_requests (principal, request_id, memory, created, create_ms)"
                    + " VALUES (?, ?, ?, ?, ?) ON CONFLICT (principal, request_id) DO UPDATE SET"
                    + " memory = EXCLUDED.memory, created = EXCLUDED.created, create_ms = EXCLUDED.create_ms")) {
                insert.setString(1, actor.principal());
                insert.setString(2, m.requestId());
                insert.setString(3, stored.row().memory().getName());
                insert.setInt(4, stored.created() ? 1 : 0);
                insert.setLong(5, nowMs);
                insert.executeUpdate();
            }
        }
        return stored;
    }

    /** The memory {@code m} supersedes, locked: NOT_FOUND outside the tenant, a conflict unless it is active. */
    private Row supersedable(Connection c, NewMemory m, long nowMs) throws SQLException {
        final Row old = lockedByName(c, m.supersedes(), nowMs)
                .filter(row -> row.memory().getScope().getTenant().equals(m.memory().getScope().getTenant()))
                .orElseThrow(() -> DomainException.notFound("memory", m.supersedes()));
        if (old.memory().getState() != MemoryState.MEMORY_STATE_ACTIVE) {
            throw DomainException.conflict(m.supersedes() + ": it is " + old.memory().getState().name()
                                           + "; only an active memory can be superseded")
                                  .with("name", m.supersedes());
        }
        return old;
    }

    /** Closes {@code old}'s validity (locked and active when read) and links it to its successor. */
    private static void close(Connection c, Row old, String successor, Actor actor, long nowMs)
            throws SQLException {
        try (PreparedStatement update = c.prepareStatement(
                "UPDATE memories SET state = 2, valid_to_ms = ?, superseded_by = ? WHERE id = ? AND state = 1")) {
            update.setLong(1, nowMs);
            update.setString(2, successor);
            update.setLong(3, old.id());
            if (update.executeUpdate() == 0) {
                throw DomainException.conflict(old.memory().getName() + ": it changed while being superseded")
                                     .with("name", old.memory().getName());
            }
        }
        appendAudit(c, "SUPERSEDE", old.memory().getName(), old.memory().getScope().getTenant(), actor, nowMs,
                    "superseded_by=" + successor);
    }

    /** An identical memory past its TTL but not yet swept must not block a fresh store of the same text. */
    private void expireDueDuplicate(Connection c, NewMemory m, Actor actor, long nowMs) throws SQLException {
        final Optional<Row> due = activeByHash(c, m.memory().getScope(), m.contentHash(), nowMs)
                .filter(row -> row.memory().getState() == MemoryState.MEMORY_STATE_EXPIRED);
        if (due.isPresent()) {
            expire(c, due.get().id(), due.get().memory(), actor, nowMs);
        }
    }

    /** Marks an active memory expired, with its audit record; nothing when another writer did first. */
    private static void expire(Connection c, long id, Memory memory, Actor actor, long nowMs) throws SQLException {
        final long expireMs = Timestamps.toMillis(memory.getExpireTime());
        try (PreparedStatement update = c.prepareStatement(
                "UPDATE memories SET state = 4, valid_to_ms = ? WHERE id = ? AND state = 1")) {
            update.setLong(1, expireMs);
            update.setLong(2, id);
            if (update.executeUpdate() == 0) {
                return;
            }
        }
        appendAudit(c, "EXPIRE", memory.getName(), memory.getScope().getTenant(), actor, nowMs,
                    "expire_ms=" + expireMs);
    }

    Row invalidate(Connection c, String name, String reason, Actor actor, long nowMs) throws SQLException {
        final Row row = lockedByName(c, name, nowMs).orElseThrow(() -> DomainException.notFound("memory", name));
        if (row.memory().getState() != MemoryState.MEMORY_STATE_ACTIVE) {
            // Idempotent: invalidating what is already closed changes nothing.
            return row;
        }
        try (PreparedStatement update = c.prepareStatement(
                "UPDATE memories SET state = 3, valid_to_ms = ? WHERE id = ? AND state = 1")) {
            update.setLong(1, nowMs);
            update.setLong(2, row.id());
            update.executeUpdate();
        }
        appendAudit(c, "INVALIDATE", name, row.memory().getScope().getTenant(), actor, nowMs, "reason=" + reason);
        return byName(c, name, nowMs).orElseThrow();
    }

    Forgotten forget(Connection c, String name, String reason, Actor actor, long nowMs) throws SQLException {
        final Row row = lockedByName(c, name, nowMs).orElseThrow(() -> DomainException.notFound("memory", name));
        try (PreparedStatement delete = c.prepareStatement("DELETE FROM memories WHERE id = ?")) {
            delete.setLong(1, row.id());
            delete.executeUpdate();
        }
        final String tenant = row.memory().getScope().getTenant();
        final String record = appendAudit(c, "FORGET", name, tenant, actor, nowMs,
                                          "reason=" + reason + " hash=" + row.memory().getContentHash());
        changed(c, "REMOVE", row.id(), tenant, nowMs);
        return new Forgotten(row.id(), tenant, record);
    }

    List<Expired> expireDue(Connection c, Actor actor, long nowMs, int limit) throws SQLException {
        final List<Long> ids = new ArrayList<>();
        final List<Memory> memories = new ArrayList<>();
        try (PreparedStatement query = c.prepareStatement(
                "SELECT " + COLUMNS + " FROM memories m WHERE m.state = 1 AND m.expire_ms <= ? LIMIT ?"
                + dialect.forUpdateSkipLocked())) {
            query.setLong(1, nowMs);
            query.setInt(2, limit);
            try (ResultSet rs = query.executeQuery()) {
                while (rs.next()) {
                    ids.add(rs.getLong(1));
                    memories.add(Memory.newBuilder().setName(rs.getString(2))
                                       .setScope(Scope.newBuilder().setTenant(rs.getString(3)))
                                       .setExpireTime(Timestamps.fromMillis(rs.getLong(17)))
                                       .build());
                }
            }
        }
        final List<Expired> expired = new ArrayList<>();
        for (int i = 0; i < ids.size(); i++) {
            expire(c, ids.get(i), memories.get(i), actor, nowMs);
            expired.add(new Expired(ids.get(i), memories.get(i).getScope().getTenant()));
        }
        return expired;
    }

    static int forgetRequestsBefore(Connection c, long beforeMs) throws SQLException {
        try (PreparedStatement delete = c.prepareStatement("DELETE FROM store_requests WHERE create_ms < ?")) {
            delete.setLong(1, beforeMs);
            return delete.executeUpdate();
        }
    }

    /** Adds the accesses, in id order (so two replicas' batches lock the same rows in the same order). */
    static void touch(Connection c, Map<Long, long[]> accesses) throws SQLException {
        try (PreparedStatement update = c.prepareStatement(
                "UPDATE memories SET access_ms = CASE WHEN access_ms > ? THEN access_ms ELSE ? END,"
                + " access_count = access_count + ? WHERE id = ?")) {
            for (Map.Entry<Long, long[]> access : new TreeMap<>(accesses).entrySet()) {
                update.setLong(1, access.getValue()[0]);
                update.setLong(2, access.getValue()[0]);
                update.setLong(3, access.getValue()[1]);
                update.setLong(4, access.getKey());
                update.addBatch();
            }
            update.executeBatch();
        }
    }

    // ---------------------------------------------------------------- the audit log

    /** Appends a record on {@code connection}, in its transaction; returns the record's name. */
    static String appendAudit(Connection connection, String action, String memory, String tenant, Actor actor,
                              long nowMs, String detail) throws SQLException {
        try (PreparedStatement insert = connection.prepareStatement(
                "INSERT INTO audit_records (action, memory, tenant, principal, correlation_id, create_ms, detail)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id")) {
            insert.setString(1, action);
            insert.setString(2, memory);
            insert.setString(3, tenant);
            insert.setString(4, actor.principal());
            insert.setString(5, actor.correlationId());
            insert.setLong(6, nowMs);
            insert.setString(7, detail);
            try (ResultSet rs = insert.executeQuery()) {
                rs.next();
                return "auditRecords/" + rs.getLong(1);
            }
        }
    }

    /** The records the view sees (of one memory unless {@code memory} is empty), newest first. */
    static List<AuditRecord> audit(Connection connection, LedgerView view, String memory, long beforeId,
                                   int limit) throws SQLException {
        final StringBuilder sql = new StringBuilder(
                "SELECT id, action, memory, tenant, principal, correlation_id, create_ms, detail"
                + " FROM audit_records WHERE 1 = 1");
        final List<Object> args = new ArrayList<>();
        if (!view.tenant().isEmpty()) {
            sql.append(" AND tenant = ?");
            args.add(view.tenant());
        }
        if (!view.principal().isEmpty()) {
            sql.append(" AND principal = ?");
            args.add(view.principal());
        }
        if (!memory.isEmpty()) {
            sql.append(" AND memory = ?");
            args.add(memory);
        }
        if (beforeId > 0) {
            sql.append(" AND id < ?");
            args.add(beforeId);
        }
        sql.append(" ORDER BY id DESC LIMIT ?");
        args.add(limit);
        try (PreparedStatement query = connection.prepareStatement(sql.toString())) {
            for (int i = 0; i < args.size(); i++) {
                query.setObject(i + 1, args.get(i));
            }
            final List<AuditRecord> records = new ArrayList<>();
            try (ResultSet rs = query.executeQuery()) {
                while (rs.next()) {
                    records.add(AuditRecord.newBuilder()
                                           .setName("auditRecords/" + rs.getLong(1))
                                           .setAction(action(rs.getString(2)))
                                           .setMemory(rs.getString(3))
                                           .setTenant(rs.getString(4))
                                           .setPrincipal(rs.getString(5))
                                           .setCorrelationId(rs.getString(6))
                                           .setCreateTime(Timestamps.fromMillis(rs.getLong(7)))
                                           .setDetail(rs.getString(8))
                                           .build());
                }
            }
            return records;
        }
    }

    /** The action as stored ("STORE", ...: the enum's name without its prefix) as the enum. */
    private static AuditAction action(String stored) {
        try {
            return AuditAction.valueOf("AUDIT_ACTION_" + stored);
        } catch (IllegalArgumentException e) {
            return AuditAction.AUDIT_ACTION_UNSPECIFIED;
        }
    }

    // ---------------------------------------------------------------- rows

    private Optional<Row> first(Connection c, PreparedStatement query, long nowMs) throws SQLException {
        final List<Row> rows = all(c, query, nowMs);
        return rows.isEmpty() ? Optional.empty() : Optional.of(rows.get(0));
    }

    private List<Row> all(Connection c, PreparedStatement query, long nowMs) throws SQLException {
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
        try (PreparedStatement metadata = c.prepareStatement(
                "SELECT memory_id, key, value FROM memory_metadata WHERE " + dialect.idIn("memory_id"))) {
            dialect.bindIds(metadata, 1, builders.keySet());
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

    /** The filter as a SQL condition on {@code memories m}; the tenant is always bound. */
    private static String sql(MemoryFilter filter) {
        final StringBuilder sql = new StringBuilder("m.tenant = ?");
        if (!filter.user().isEmpty()) {
            sql.append(" AND m.user_id IN ('', ?)");
        }
        if (!filter.session().isEmpty()) {
            sql.append(" AND m.session_id IN ('', ?)");
        }
        if (!filter.kinds().isEmpty()) {
            sql.append(" AND m.kind IN (").append("?,".repeat(filter.kinds().size() - 1)).append("?)");
        }
        for (int i = 0; i < filter.metadata().size(); i++) {
            sql.append(" AND EXISTS (SELECT 1 FROM memory_metadata d WHERE d.memory_id = m.id")
               .append(" AND d.key = ? AND d.value = ?)");
        }
        if (!filter.includeInactive()) {
            sql.append(" AND m.state = 1 AND (m.expire_ms IS NULL OR m.expire_ms > ?)");
        }
        return sql.toString();
    }

    /** Binds the parameters of {@link #sql(MemoryFilter)} from {@code index}; returns the next free index. */
    private static int bind(MemoryFilter filter, PreparedStatement statement, int index) throws SQLException {
        statement.setString(index++, filter.tenant());
        if (!filter.user().isEmpty()) {
            statement.setString(index++, filter.user());
        }
        if (!filter.session().isEmpty()) {
            statement.setString(index++, filter.session());
        }
        for (int kind : filter.kinds()) {
            statement.setInt(index++, kind);
        }
        for (Map.Entry<String, String> pair : filter.metadata().entrySet()) {
            statement.setString(index++, pair.getKey());
            statement.setString(index++, pair.getValue());
        }
        if (!filter.includeInactive()) {
            statement.setLong(index++, filter.nowMs());
        }
        return index;
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

    /** A vector as little-endian float32 bytes. */
    static byte[] toBytes(float[] vector) {
        final ByteBuffer buffer = ByteBuffer.allocate(vector.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        buffer.asFloatBuffer().put(vector);
        return buffer.array();
    }

    /** The inverse of {@link #toBytes(float[])}. */
    static float[] toFloats(byte[] bytes) {
        final float[] vector = new float[bytes.length / Float.BYTES];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(vector);
        return vector;
    }
}
