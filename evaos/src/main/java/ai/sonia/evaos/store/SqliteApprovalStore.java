package ai.sonia.evaos.store;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import javax.annotation.Nullable;

import ai.sonia.evaos.domain.ApprovalStore;
import ai.sonia.evaos.v1.Approval;
import ai.sonia.evaos.v1.ApprovalState;
import ai.sonia.evaos.v1.Decision;
import ai.sonia.evaos.v1.GrantScope;
import ai.sonia.runtime.store.Migrations;
import ai.sonia.runtime.store.Sql;
import ai.sonia.runtime.store.Sqlite;
import ai.sonia.runtime.store.StoreHealth;

/**
 * Approvals in SQLite (WAL) under {@code dataDir("evaos")}. State changes are conditional updates
 * ({@code WHERE state = 'PENDING'}, {@code WHERE use_count = 0}), so of two concurrent deciders or two
 * concurrent uses of a ONCE grant exactly one wins. Page keys are (create_ms, rowid) for approvals and the
 * rowid of the append-only decisions table.
 */
public final class SqliteApprovalStore implements ApprovalStore {

    /** The store's location; its PostgreSQL sibling's SQL is under {@code db/postgresql/}. */
    static final String MIGRATIONS = "db/evaos/approvals";

    private final Connection connection;
    private final StoreHealth health;

    public SqliteApprovalStore(Path file) {
        try {
            // A decision must not be lost with the machine's power: every commit is synced.
            connection = Sqlite.open(file, "synchronous = FULL");
            Migrations.migrate(connection, MIGRATIONS, "ai.sonia.evaos.store.migrations",
                               SqliteApprovalStore::legacyVersion, ApprovalRows.APPEND_ONLY);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot open approvals " + file, e);
        }
        health = new StoreHealth(file);
    }

    /**
     * The version of a database made before Flyway: V1 without tenants, V2 with tenants but owners not yet
     * settled ({@code PRAGMA user_version} 0), V3 with both; null for a new one.
     */
    private static String legacyVersion(Connection connection) throws SQLException {
        boolean approvals = false;
        boolean tenants = false;
        try (Statement s = connection.createStatement();
             ResultSet rs = s.executeQuery("PRAGMA table_info(approvals)")) {
            while (rs.next()) {
                approvals = true;
                tenants |= rs.getString("name").equals("tenant");
            }
        }
        if (!approvals) {
            return null;
        }
        if (!tenants) {
            return "1";
        }
        try (Statement s = connection.createStatement(); ResultSet rs = s.executeQuery("PRAGMA user_version")) {
            return rs.next() && rs.getInt(1) >= 1 ? "3" : "2";
        }
    }

    @Override
    public synchronized boolean insert(Approval a) {
        update(ApprovalRows.INSERT, ApprovalRows.insertParams(a));
        return true;
    }

    @Override
    public synchronized Optional<Approval> get(@Nullable String tenant, @Nullable String requester, String id) {
        final ApprovalRows.Where where = new ApprovalRows.Where(tenant, requester).and("id = ?", id);
        final List<Approval> found = query("SELECT * FROM approvals" + where.sql, where.params.toArray());
        return found.isEmpty() ? Optional.empty() : Optional.of(found.get(0));
    }

    @Override
    public synchronized List<Approval> byHash(String tenant, String requester, String actionHash) {
        return query(ApprovalRows.BY_HASH.formatted("rowid"), actionHash, tenant, requester);
    }

    @Override
    public synchronized List<Approval> patternGrants(String tenant, String requester, String tool) {
        return query(ApprovalRows.PATTERN_GRANTS.formatted("rowid"), tenant, requester, tool,
                     GrantScope.GRANT_SCOPE_PATTERN_VALUE, ApprovalState.APPROVAL_STATE_APPROVED_VALUE);
    }

    @Override
    public synchronized Page<Approval> list(@Nullable String tenant, @Nullable String requester,
                                            ApprovalState state, List<String> after, int limit) {
        final ApprovalRows.Where where = ApprovalRows.listing(tenant, requester, state, after, limit, "rowid");
        try (PreparedStatement ps = Sql.prepare(connection, "SELECT rowid AS seq, * FROM approvals" + where.sql, where.params.toArray()); ResultSet rs = ps.executeQuery()) {
            return ApprovalRows.approvals(rs, limit);
        } catch (SQLException e) {
            throw health.unavailableOr(e, new IllegalStateException("cannot read approvals", e));
        }
    }

    @Override
    public synchronized Page<Decision> decisions(String tenant, List<String> after, int limit) {
        final long before = after.isEmpty() ? Long.MAX_VALUE : Long.parseLong(after.get(0));
        try (PreparedStatement ps = Sql.prepare(connection,
                "SELECT rowid AS seq, * FROM decisions WHERE tenant = ? AND rowid < ? ORDER BY rowid DESC LIMIT ?", tenant, before, limit + 1); ResultSet rs = ps.executeQuery()) {
            return ApprovalRows.decisions(rs, limit);
        } catch (SQLException e) {
            throw health.unavailableOr(e, new IllegalStateException("cannot read decisions", e));
        }
    }

    /**
     * Decides a pending approval and appends the decision to {@code decisions}, in one transaction; false
     * when it was no longer pending (then nothing is written).
     */
    @Override
    public synchronized boolean decide(String id, ApprovalState state, GrantScope scope, String pattern,
                                       String decidedBy, long decideMs, long expireMs, String reason, long nowMs) {
        try {
            return Sqlite.inTransaction(connection, () -> {
                final boolean won = update(ApprovalRows.DECIDE, state.getNumber(), scope.getNumber(), pattern,
                                           decidedBy, decideMs, expireMs, reason, id, nowMs) == 1;
                if (won) {
                    update(ApprovalRows.RECORD_DECISION, id);
                }
                return won;
            });
        } catch (SQLException e) {
            throw health.unavailableOr(e, new IllegalStateException("cannot decide approval", e));
        }
    }

    /** Uses a ONCE grant; false when it was already used. */
    @Override
    public synchronized boolean consume(String id) {
        return update(ApprovalRows.CONSUME, id) == 1;
    }

    /** Counts a use of a SESSION or PATTERN grant. */
    @Override
    public synchronized void countUse(String id) {
        update(ApprovalRows.COUNT_USE, id);
    }

    /** Expires pending approvals and grants whose time has come; returns them as they are now. */
    @Override
    public synchronized List<Approval> expireDue(long nowMs) {
        final List<Approval> due = query(
                "SELECT * FROM approvals WHERE state IN (?, ?) AND expire_ms <= ?",
                ApprovalState.APPROVAL_STATE_PENDING_VALUE, ApprovalState.APPROVAL_STATE_APPROVED_VALUE, nowMs);
        final List<Approval> expired = new ArrayList<>();
        for (Approval a : due) {
            if (update("UPDATE approvals SET state = ? WHERE id = ? AND state = ?",
                       ApprovalState.APPROVAL_STATE_EXPIRED_VALUE, a.getApprovalId(), a.getStateValue()) == 1) {
                expired.add(a.toBuilder().setState(ApprovalState.APPROVAL_STATE_EXPIRED).build());
            }
        }
        return expired;
    }

    @Override
    public synchronized Optional<byte[]> response(String tenant, String requester, String requestId, long sinceMs) {
        try (PreparedStatement ps = Sql.prepare(connection, ApprovalRows.RESPONSE, tenant, requester, requestId, sinceMs); ResultSet rs = ps.executeQuery()) {
            return rs.next() ? Optional.of(rs.getBytes(1)) : Optional.empty();
        } catch (SQLException e) {
            throw health.unavailableOr(e, new IllegalStateException("cannot read requests", e));
        }
    }

    @Override
    public synchronized void rememberResponse(String tenant, String requester, String requestId, byte[] response,
                                              long nowMs, long forgetBeforeMs) {
        update(ApprovalRows.FORGET_RESPONSES, forgetBeforeMs);
        update("INSERT OR IGNORE INTO requests (tenant, requester, request_id, response, create_ms) "
               + "VALUES (?, ?, ?, ?, ?)", tenant, requester, requestId, response, nowMs);
    }

    private int update(String sql, Object... params) {
        try {
            return Sql.update(connection, sql, params);
        } catch (SQLException e) {
            throw health.unavailableOr(e, new IllegalStateException("cannot update approvals", e));
        }
    }

    private List<Approval> query(String sql, Object... params) {
        try {
            return Sql.query(connection, ApprovalRows::read, sql, params);
        } catch (SQLException e) {
            throw health.unavailableOr(e, new IllegalStateException("cannot read approvals", e));
        }
    }

    @Override
    public synchronized void close() throws SQLException {
        health.close();
        connection.close();
    }
}
