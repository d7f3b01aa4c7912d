package ai.sonia.memory.store;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
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
import java.util.UUID;

import com.google.protobuf.util.Timestamps;

import ai.sonia.common.v1.Scope;
import ai.sonia.memory.domain.Actor;
import ai.sonia.memory.domain.AuditLog;
import ai.sonia.memory.domain.LedgerView;
import ai.sonia.memory.domain.MemoryFilter;
import ai.sonia.memory.domain.MemoryStore;
import ai.sonia.memory.v1.Memory;
import ai.sonia.memory.v1.MemoryKind;
import ai.sonia.memory.v1.MemoryState;
import ai.sonia.memory.v1.MemoryStats;
import ai.sonia.runtime.errors.DomainException;
import ai.sonia.runtime.store.Migrations;

/**
 * The memory ledger in one SQLite file ({@link LedgerFile}): memories, their metadata and vectors, and the
 * audit log ({@link SqliteAuditLog}), whose records are written in
 * the same transaction as the change they record. Reads run on pooled readers; every write goes through
 * the one writer's group commit.
 */
public final class SqliteMemoryStore implements MemoryStore {

    private static final String COLUMNS =
            "m.id, m.name, m.tenant, m.user_id, m.session_id, m.kind, m.text, m.content_hash, m.source, m.trust,"
            + " m.state, m.create_ms, m.access_ms, m.access_count, m.valid_from_ms, m.valid_to_ms, m.expire_ms,"
            + " m.supersedes, m.superseded_by";

    /** Where the ledger's migrations live, and the latest of them (the V number of the newest file there). */
    static final String MIGRATIONS = "db/memory/ledger";
    static final int SCHEMA_VERSION = 3;

    private final LedgerFile file;
    private final SqliteAuditLog auditLog;

    private SqliteMemoryStore(LedgerFile file) {
        this.file = file;
        auditLog = new SqliteAuditLog(file);
    }

    /** Opens (creating and migrating if needed) the ledger at {@code file}. */
    public static SqliteMemoryStore open(Path file, int readers, boolean fullSync) {
        return new SqliteMemoryStore(new LedgerFile(file, readers, fullSync, c -> {
            migrate(c);
            return null;
        }));
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
        return file.read(c -> byName(c, name, nowMs));
    }

    @Override
    public Optional<Row> activeByHash(Scope scope, String hash, long nowMs) {
        return file.read(c -> activeByHash(c, scope, hash, nowMs));
    }

    @Override
    public List<Row> list(MemoryFilter filter, long beforeId, int limit) {
        final String sql = "SELECT " + COLUMNS + " FROM memories m WHERE " + sql(filter)
                           + (beforeId > 0 ? " AND m.id < ?" : "") + " ORDER BY m.id DESC LIMIT ?";
        return file.read(c -> {
            try (PreparedStatement query = c.prepareStatement(sql)) {
                int index = bind(filter, query, 1);
                if (beforeId > 0) {
                    query.setLong(index++, beforeId);
                }
                query.setInt(index, limit);
                return all(c, query, filter.nowMs());
            }
        });
    }

    @Override
    public Map<Long, Row> eligible(MemoryFilter filter, Collection<Long> ids) {
        if (ids.isEmpty()) {
            return new HashMap<>();
        }
        // NOT INDEXED: look the ids up by primary key; the planner would otherwise scan the tenant's index.
        final String sql = "SELECT " + COLUMNS + " FROM memories m NOT INDEXED WHERE " + sql(filter)
                           + " AND m.id IN (SELECT value FROM json_each(?))";
        return file.read(c -> {
            final Map<Long, Row> rows = new HashMap<>();
            try (PreparedStatement query = c.prepareStatement(sql)) {
                final int index = bind(filter, query, 1);
                query.setString(index, ids.toString());
                for (Row row : all(c, query, filter.nowMs())) {
                    rows.put(row.id(), row);
                }
            }
            return rows;
        });
    }

    @Override
    public Map<Long, Long> eligibleReferences(MemoryFilter filter, Collection<Long> ids) {
        if (ids.isEmpty()) {
            return new HashMap<>();
        }
        final String sql = "SELECT m.id, max(m.create_ms, m.access_ms) FROM memories m NOT INDEXED WHERE "
                           + sql(filter) + " AND m.id IN (SELECT value FROM json_each(?))";
        return file.read(c -> {
            final Map<Long, Long> references = new HashMap<>();
            try (PreparedStatement query = c.prepareStatement(sql)) {
                final int index = bind(filter, query, 1);
                query.setString(index, ids.toString());
                try (ResultSet rs = query.executeQuery()) {
                    while (rs.next()) {
                        references.put(rs.getLong(1), rs.getLong(2));
                    }
                }
            }
            return references;
        });
    }

    @Override
    public void vectors(VectorSink sink) {
        file.read(c -> {
            try (Statement statement = c.createStatement();
                 ResultSet rs = statement.executeQuery(
                         "SELECT memory_id, tenant, vector FROM memory_vectors ORDER BY memory_id")) {
                while (rs.next()) {
                    sink.accept(rs.getLong(1), rs.getString(2), toFloats(rs.getBytes(3)));
                }
            }
            return null;
        });
    }

    @Override
    public void documents(DocumentSink sink) {
        file.read(c -> {
            try (Statement statement = c.createStatement();
                 ResultSet rs = statement.executeQuery(
                         "SELECT v.memory_id, v.tenant, m.text, v.vector FROM memory_vectors v"
                         + " JOIN memories m ON m.id = v.memory_id ORDER BY v.memory_id")) {
                while (rs.next()) {
                    sink.accept(rs.getLong(1), rs.getString(2), rs.getString(3), toFloats(rs.getBytes(4)));
                }
            }
            return null;
        });
    }

    @Override
    public MemoryStats stats(LedgerView view, long nowMs) {
        return file.read(c -> stats(c, view, nowMs));
    }

    @Override
    public List<String> otherVectorModels(String model, int limit) {
        return file.read(c -> {
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
        });
    }

    @Override
    public long count() {
        return file.read(c -> {
            try (PreparedStatement query = c.prepareStatement("SELECT count(*) FROM memories");
                 ResultSet rs = query.executeQuery()) {
                return rs.next() ? rs.getLong(1) : 0;
            }
        });
    }

    // ---------------------------------------------------------------- writes

    @Override
    public Stored store(NewMemory memory, Actor actor, long nowMs) {
        return file.write(c -> store(c, memory, actor, nowMs));
    }

    @Override
    public Optional<Stored> byRequest(String principal, String requestId, long sinceMs, long nowMs) {
        return file.read(c -> {
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
                    created = rs.getBoolean(2);
                }
            }
            return byName(c, name, nowMs).map(row -> new Stored(row, created));
        });
    }

    @Override
    public int forgetRequestsBefore(long beforeMs) {
        return file.write(c -> {
            try (PreparedStatement delete = c.prepareStatement("DELETE FROM store_requests WHERE create_ms < ?")) {
                delete.setLong(1, beforeMs);
                return delete.executeUpdate();
            }
        });
    }

    @Override
    public List<Stored> storeAll(List<NewMemory> memories, Actor actor, long nowMs) {
        return file.write(c -> {
            final List<Stored> stored = new ArrayList<>(memories.size());
            for (NewMemory memory : memories) {
                stored.add(store(c, memory, actor, nowMs));
            }
            return stored;
        });
    }

    @Override
    public Row invalidate(String name, String reason, Actor actor, long nowMs) {
        return file.write(c -> {
            final Row row = byName(c, name, nowMs).orElseThrow(() -> DomainException.notFound("memory", name));
            if (row.memory().getState() != MemoryState.MEMORY_STATE_ACTIVE) {
                // Idempotent: invalidating what is already closed changes nothing.
                return row;
            }
            try (PreparedStatement update = c.prepareStatement(
                    "UPDATE memories SET state = 3, valid_to_ms = ? WHERE id = ?")) {
                update.setLong(1, nowMs);
                update.setLong(2, row.id());
                update.executeUpdate();
            }
            SqliteAuditLog.append(c, "INVALIDATE", name, row.memory().getScope().getTenant(), actor, nowMs,
                                  "reason=" + reason);
            return byName(c, name, nowMs).orElseThrow();
        });
    }

    @Override
    public Forgotten forget(String name, String reason, Actor actor, long nowMs) {
        return file.write(c -> {
            final Row row = byName(c, name, nowMs).orElseThrow(() -> DomainException.notFound("memory", name));
            try (PreparedStatement delete = c.prepareStatement("DELETE FROM memories WHERE id = ?")) {
                delete.setLong(1, row.id());
                delete.executeUpdate();
            }
            final String tenant = row.memory().getScope().getTenant();
            final String record = SqliteAuditLog.append(c, "FORGET", name, tenant, actor, nowMs,
                                                        "reason=" + reason + " hash="
                                                        + row.memory().getContentHash());
            return new Forgotten(row.id(), tenant, record);
        });
    }

    @Override
    public List<Expired> expireDue(Actor actor, long nowMs, int limit) {
        return file.write(c -> {
            final List<Expired> expired = new ArrayList<>();
            try (PreparedStatement query = c.prepareStatement(
                    "SELECT " + COLUMNS + " FROM memories m WHERE m.state = 1 AND m.expire_ms <= ? LIMIT ?")) {
                query.setLong(1, nowMs);
                query.setInt(2, limit);
                final List<Long> ids = new ArrayList<>();
                final List<Memory> memories = new ArrayList<>();
                try (ResultSet rs = query.executeQuery()) {
                    while (rs.next()) {
                        ids.add(rs.getLong(1));
                        memories.add(Memory.newBuilder().setName(rs.getString(2))
                                           .setScope(Scope.newBuilder().setTenant(rs.getString(3)))
                                           .setExpireTime(Timestamps.fromMillis(rs.getLong(17)))
                                           .build());
                    }
                }
                for (int i = 0; i < ids.size(); i++) {
                    expire(c, ids.get(i), memories.get(i), actor, nowMs);
                    expired.add(new Expired(ids.get(i), memories.get(i).getScope().getTenant()));
                }
            }
            return expired;
        });
    }

    @Override
    public void touch(Map<Long, long[]> accesses) {
        file.write(c -> {
            try (PreparedStatement update = c.prepareStatement(
                    "UPDATE memories SET access_ms = max(access_ms, ?), access_count = access_count + ?"
                    + " WHERE id = ?")) {
                for (Map.Entry<Long, long[]> access : accesses.entrySet()) {
                    update.setLong(1, access.getValue()[0]);
                    update.setLong(2, access.getValue()[1]);
                    update.setLong(3, access.getKey());
                    update.addBatch();
                }
                update.executeBatch();
            }
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

    // ---------------------------------------------------------------- on one connection

    private static Stored store(Connection c, NewMemory m, Actor actor, long nowMs) throws SQLException {
        final Memory memory = m.memory();
        expireDueDuplicate(c, m, actor, nowMs);
        final Optional<Row> existing = activeByHash(c, memory.getScope(), m.contentHash(), nowMs);
        if (existing.isPresent() && existing.get().memory().getName().equals(m.supersedes())) {
            return remember(c, m, actor, nowMs, new Stored(existing.get(), false));
        }
        final Row superseded = m.supersedes().isEmpty() ? null : supersedable(c, m, nowMs);
        if (existing.isPresent()) {
            if (superseded != null) {
                close(c, superseded, existing.get().memory().getName(), actor, nowMs);
            }
            return remember(c, m, actor, nowMs, new Stored(existing.get(), false));
        }
        final String name = "memories/" + UUID.randomUUID().toString().replace("-", "");
        final long id;
        try (PreparedStatement insert = c.prepareStatement(
                "INSERT INTO memories (name, tenant, user_id, session_id, kind, text, content_hash, source, trust,"
                + " state, create_ms, access_ms, valid_from_ms, expire_ms, supersedes)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?) RETURNING id")) {
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
                insert.setNull(13, Types.INTEGER);
            }
            insert.setString(14, superseded != null ? superseded.memory().getName() : "");
            try (ResultSet rs = insert.executeQuery()) {
                rs.next();
                id = rs.getLong(1);
            }
        }
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
        SqliteAuditLog.append(c, "STORE", name, memory.getScope().getTenant(), actor, nowMs,
                              "kind=" + memory.getKind().name() + " hash=" + m.contentHash());
        if (superseded != null) {
            close(c, superseded, name, actor, nowMs);
        }
        return remember(c, m, actor, nowMs, new Stored(byName(c, name, nowMs).orElseThrow(), true));
    }

    /** Records the store's outcome under its request id, if it has one. */
    private static Stored remember(Connection c, NewMemory m, Actor actor, long nowMs, Stored stored)
            throws SQLException {
        if (!m.requestId().isEmpty()) {
            try (PreparedStatement insert = c.prepareStatement(
                    "INSERT OR REPLACE INTO store_requests (principal, request_id, memory, created, create_ms)"
                    + " VALUES (?, ?, ?, ?, ?)")) {
                insert.setString(1, actor.principal());
                insert.setString(2, m.requestId());
                insert.setString(3, stored.row().memory().getName());
                insert.setBoolean(4, stored.created());
                insert.setLong(5, nowMs);
                insert.executeUpdate();
            }
        }
        return stored;
    }

    private static Row supersedable(Connection c, NewMemory m, long nowMs) throws SQLException {
        final Row old = byName(c, m.supersedes(), nowMs)
                .filter(row -> row.memory().getScope().getTenant().equals(m.memory().getScope().getTenant()))
                .orElseThrow(() -> DomainException.notFound("memory", m.supersedes()));
        if (old.memory().getState() != MemoryState.MEMORY_STATE_ACTIVE) {
            throw DomainException.conflict(m.supersedes() + ": it is " + old.memory().getState().name()
                                           + "; only an active memory can be superseded")
                                  .with("name", m.supersedes());
        }
        return old;
    }

    /** Closes {@code old}'s validity and links it to its successor. */
    private static void close(Connection c, Row old, String successor, Actor actor, long nowMs)
            throws SQLException {
        try (PreparedStatement update = c.prepareStatement(
                "UPDATE memories SET state = 2, valid_to_ms = ?, superseded_by = ? WHERE id = ?")) {
            update.setLong(1, nowMs);
            update.setString(2, successor);
            update.setLong(3, old.id());
            update.executeUpdate();
        }
        SqliteAuditLog.append(c, "SUPERSEDE", old.memory().getName(), old.memory().getScope().getTenant(), actor,
                              nowMs, "superseded_by=" + successor);
    }

    /** An identical memory past its TTL but not yet swept must not block a fresh store of the same text. */
    private static void expireDueDuplicate(Connection c, NewMemory m, Actor actor, long nowMs)
            throws SQLException {
        final Optional<Row> due = activeByHash(c, m.memory().getScope(), m.contentHash(), nowMs)
                .filter(row -> row.memory().getState() == MemoryState.MEMORY_STATE_EXPIRED);
        if (due.isPresent()) {
            expire(c, due.get().id(), due.get().memory(), actor, nowMs);
        }
    }

    private static void expire(Connection c, long id, Memory memory, Actor actor, long nowMs) throws SQLException {
        final long expireMs = Timestamps.toMillis(memory.getExpireTime());
        try (PreparedStatement update = c.prepareStatement(
                "UPDATE memories SET state = 4, valid_to_ms = ? WHERE id = ?")) {
            update.setLong(1, expireMs);
            update.setLong(2, id);
            update.executeUpdate();
        }
        SqliteAuditLog.append(c, "EXPIRE", memory.getName(), memory.getScope().getTenant(), actor, nowMs,
                              "expire_ms=" + expireMs);
    }

    private static Optional<Row> byName(Connection c, String name, long nowMs) throws SQLException {
        try (PreparedStatement query = c.prepareStatement("SELECT " + COLUMNS + " FROM memories m WHERE m.name = ?")) {
            query.setString(1, name);
            return first(c, query, nowMs);
        }
    }

    private static Optional<Row> activeByHash(Connection c, Scope scope, String hash, long nowMs)
            throws SQLException {
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

    private static Optional<Row> first(Connection c, PreparedStatement query, long nowMs) throws SQLException {
        final List<Row> rows = all(c, query, nowMs);
        return rows.isEmpty() ? Optional.empty() : Optional.of(rows.get(0));
    }

    private static List<Row> all(Connection c, PreparedStatement query, long nowMs) throws SQLException {
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

    private static MemoryStats stats(Connection c, LedgerView view, long nowMs) throws SQLException {
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
