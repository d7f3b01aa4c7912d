package ai.sonia.memory.store;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import com.google.protobuf.util.Timestamps;

import com.linecorp.armeria.common.annotation.Nullable;

import ai.sonia.common.v1.Scope;

import ai.sonia.memory.domain.MemoryException;
import ai.sonia.memory.v1.Memory;
import ai.sonia.memory.v1.MemoryState;
import ai.sonia.memory.store.AuditLog.Actor;
import ai.sonia.memory.store.MemoryRows.Row;

/** The ledger's writes. Each method runs inside one savepoint of the writer's group commit. */
public final class MemoryLedger {

    /** A memory to store: validated request fields plus what the engine computed. */
    public record NewMemory(Memory memory, String contentHash, float[] vector, String model,
                            @Nullable Long expireMs, String supersedes) {}

    /** The outcome of a store. */
    public record Stored(Row row, boolean created) {}

    /** The outcome of a forget: what to drop from the in-memory vector index. */
    public record Forgotten(long id, String tenant, String auditRecord) {}

    /** A memory that the sweeper expired. */
    public record Expired(long id, String tenant) {}

    private MemoryLedger() {}

    /** Stores a memory, or returns the identical active one of its scope; supersedes when asked. */
    public static Stored store(Connection c, NewMemory m, Actor actor, long nowMs) throws SQLException {
        final Memory memory = m.memory();
        expireDueDuplicate(c, m, actor, nowMs);
        final Optional<Row> existing = MemoryRows.activeByHash(c, memory.getScope(), m.contentHash(), nowMs);
        if (existing.isPresent() && existing.get().memory().getName().equals(m.supersedes())) {
            return new Stored(existing.get(), false);
        }
        @Nullable final Row superseded = m.supersedes().isEmpty() ? null : supersedable(c, m, nowMs);
        if (existing.isPresent()) {
            if (superseded != null) {
                close(c, superseded, existing.get().memory().getName(), actor, nowMs);
            }
            return new Stored(existing.get(), false);
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
        try (PreparedStatement insert = c.prepareStatement("INSERT INTO memory_fts (rowid, text) VALUES (?, ?)")) {
            insert.setLong(1, id);
            insert.setString(2, memory.getText());
            insert.executeUpdate();
        }
        try (PreparedStatement insert = c.prepareStatement(
                "INSERT INTO memory_vectors (memory_id, tenant, model, vector) VALUES (?, ?, ?, ?)")) {
            insert.setLong(1, id);
            insert.setString(2, memory.getScope().getTenant());
            insert.setString(3, m.model());
            insert.setBytes(4, toBytes(m.vector()));
            insert.executeUpdate();
        }
        AuditLog.append(c, "STORE", name, memory.getScope().getTenant(), actor, nowMs,
                        "kind=" + memory.getKind().name() + " hash=" + m.contentHash());
        if (superseded != null) {
            close(c, superseded, name, actor, nowMs);
        }
        return new Stored(MemoryRows.byName(c, name, nowMs).orElseThrow(), true);
    }

    private static Row supersedable(Connection c, NewMemory m, long nowMs) throws SQLException {
        final Row old = MemoryRows.byName(c, m.supersedes(), nowMs)
                                  .filter(row -> row.memory().getScope().getTenant()
                                                    .equals(m.memory().getScope().getTenant()))
                                  .orElseThrow(() -> MemoryException.notFound(m.supersedes()));
        if (old.memory().getState() != MemoryState.MEMORY_STATE_ACTIVE) {
            throw MemoryException.conflict(m.supersedes(), "it is " + old.memory().getState().name()
                                                           + "; only an active memory can be superseded");
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
        AuditLog.append(c, "SUPERSEDE", old.memory().getName(), old.memory().getScope().getTenant(), actor,
                        nowMs, "superseded_by=" + successor);
    }

    /** An identical memory past its TTL but not yet swept must not block a fresh store of the same text. */
    private static void expireDueDuplicate(Connection c, NewMemory m, Actor actor, long nowMs)
            throws SQLException {
        final Optional<Row> due = MemoryRows.activeByHash(c, m.memory().getScope(), m.contentHash(), nowMs)
                                            .filter(row -> row.memory().getState()
                                                           == MemoryState.MEMORY_STATE_EXPIRED);
        if (due.isPresent()) {
            expire(c, due.get().id(), due.get().memory(), actor, nowMs);
        }
    }

    /** Closes a memory's validity without a successor. */
    public static Row invalidate(Connection c, String name, String reason, Actor actor, long nowMs)
            throws SQLException {
        final Row row = MemoryRows.byName(c, name, nowMs).orElseThrow(() -> MemoryException.notFound(name));
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
        AuditLog.append(c, "INVALIDATE", name, row.memory().getScope().getTenant(), actor, nowMs,
                        "reason=" + reason);
        return MemoryRows.byName(c, name, nowMs).orElseThrow();
    }

    /** Deletes a memory's row, text, metadata, index entry and vector; the audit keeps the fact, not the text. */
    public static Forgotten forget(Connection c, String name, String reason, Actor actor, long nowMs)
            throws SQLException {
        final Row row = MemoryRows.byName(c, name, nowMs).orElseThrow(() -> MemoryException.notFound(name));
        try (PreparedStatement delete = c.prepareStatement("DELETE FROM memory_fts WHERE rowid = ?")) {
            delete.setLong(1, row.id());
            delete.executeUpdate();
        }
        try (PreparedStatement delete = c.prepareStatement("DELETE FROM memories WHERE id = ?")) {
            delete.setLong(1, row.id());
            delete.executeUpdate();
        }
        final String tenant = row.memory().getScope().getTenant();
        final String record = AuditLog.append(c, "FORGET", name, tenant, actor, nowMs,
                                              "reason=" + reason + " hash=" + row.memory().getContentHash());
        return new Forgotten(row.id(), tenant, record);
    }

    /** Marks up to {@code limit} memories past their TTL as expired, with an audit record each. */
    public static List<Expired> expireDue(Connection c, Actor actor, long nowMs, int limit) throws SQLException {
        final List<Expired> expired = new ArrayList<>();
        try (PreparedStatement query = c.prepareStatement(
                "SELECT " + MemoryRows.COLUMNS + " FROM memories m WHERE m.state = 1 AND m.expire_ms <= ? LIMIT ?")) {
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
    }

    private static void expire(Connection c, long id, Memory memory, Actor actor, long nowMs) throws SQLException {
        final long expireMs = Timestamps.toMillis(memory.getExpireTime());
        try (PreparedStatement update = c.prepareStatement(
                "UPDATE memories SET state = 4, valid_to_ms = ? WHERE id = ?")) {
            update.setLong(1, expireMs);
            update.setLong(2, id);
            update.executeUpdate();
        }
        AuditLog.append(c, "EXPIRE", memory.getName(), memory.getScope().getTenant(), actor, nowMs,
                        "expire_ms=" + expireMs);
    }

    /** Records accesses (last time and count) batched by the engine; not audited, they change no content. */
    public static void touch(Connection c, Map<Long, long[]> accesses) throws SQLException {
        try (PreparedStatement update = c.prepareStatement(
                "UPDATE memories SET access_ms = max(access_ms, ?), access_count = access_count + ? WHERE id = ?")) {
            for (Map.Entry<Long, long[]> access : accesses.entrySet()) {
                update.setLong(1, access.getValue()[0]);
                update.setLong(2, access.getValue()[1]);
                update.setLong(3, access.getKey());
                update.addBatch();
            }
            update.executeBatch();
        }
    }

    /** Records a restore from a backup; returns the audit record's name. */
    public static String recordRestore(Connection c, String backupId, Actor actor, long nowMs) throws SQLException {
        return AuditLog.append(c, "RESTORE", "", "", actor, nowMs, "backup_id=" + backupId);
    }

    /** How many memories the ledger holds, in all states. */
    public static long count(Connection c) throws SQLException {
        try (PreparedStatement query = c.prepareStatement("SELECT count(*) FROM memories");
             ResultSet rs = query.executeQuery()) {
            return rs.next() ? rs.getLong(1) : 0;
        }
    }

    /** A vector as little-endian float32 bytes. */
    public static byte[] toBytes(float[] vector) {
        final ByteBuffer buffer = ByteBuffer.allocate(vector.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        buffer.asFloatBuffer().put(vector);
        return buffer.array();
    }

    /** The inverse of {@link #toBytes(float[])}. */
    public static float[] toFloats(byte[] bytes) {
        final float[] vector = new float[bytes.length / Float.BYTES];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(vector);
        return vector;
    }
}
