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

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.util.JsonFormat;
import com.google.protobuf.util.Timestamps;

import ai.sonia.evaos.domain.ApprovalStore;
import ai.sonia.evaos.domain.CanonicalJson;
import ai.sonia.evaos.v1.Approval;
import ai.sonia.evaos.v1.ApprovalState;
import ai.sonia.evaos.v1.Decision;
import ai.sonia.evaos.v1.GrantScope;
import ai.sonia.options.v1.RiskLevel;
import ai.sonia.runtime.store.Migrations;
import ai.sonia.runtime.store.Sqlite;
import ai.sonia.runtime.store.StoreHealth;

/**
 * Approvals in SQLite (WAL) under {@code dataDir("evaos")}. State changes are conditional updates
 * ({@code WHERE state = 'PENDING'}, {@code WHERE use_count = 0}), so of two concurrent deciders or two
 * concurrent uses of a ONCE grant exactly one wins. Page keys are (create_ms, rowid) for approvals and the
 * rowid of the append-only decisions table.
 */
public final class SqliteApprovalStore implements ApprovalStore {

    private final Connection connection;
    private final StoreHealth health;

    public SqliteApprovalStore(Path file) {
        try {
            // A decision must not be lost with the machine's power: every commit is synced.
            connection = Sqlite.open(file, "synchronous = FULL");
            Migrations.migrate(connection, "db/evaos/approvals", "ai.sonia.evaos.store.migrations",
                               SqliteApprovalStore::legacyVersion);
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
    public synchronized void insert(Approval a) {
        try (PreparedStatement ps = connection.prepareStatement(
                "INSERT INTO approvals (id, state, tool, arguments, working_directory, action_hash, risk, rule, "
                + "grant_scope, pattern, session_id, requested_by, decided_by, create_ms, decide_ms, expire_ms, "
                + "reason, use_count, tenant, requester) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")) {
            ps.setString(1, a.getApprovalId());
            ps.setInt(2, a.getStateValue());
            ps.setString(3, a.getToolName());
            ps.setString(4, CanonicalJson.of(a.getArguments()));
            ps.setString(5, a.getWorkingDirectory());
            ps.setString(6, a.getActionHash());
            ps.setInt(7, a.getRiskValue());
            ps.setString(8, a.getRule());
            ps.setInt(9, a.getGrantScopeValue());
            ps.setString(10, a.getPattern());
            ps.setString(11, a.getSessionId());
            ps.setString(12, a.getRequestedBy());
            ps.setString(13, a.getDecidedBy());
            ps.setLong(14, Timestamps.toMillis(a.getCreateTime()));
            ps.setLong(15, Timestamps.toMillis(a.getDecideTime()));
            ps.setLong(16, Timestamps.toMillis(a.getExpireTime()));
            ps.setString(17, a.getReason());
            ps.setInt(18, a.getUseCount());
            ps.setString(19, a.getTenant());
            ps.setString(20, a.getRequester());
            ps.executeUpdate();
        } catch (SQLException e) {
            throw health.unavailableOr(e, new IllegalStateException("cannot store approval", e));
        }
    }

    /**
     * One approval of {@code tenant} ({@link #ANY_TENANT} for a service acting for itself), asked for by
     * {@code requester} ({@link #ANY_REQUESTER} for an admin of the tenant).
     */
    @Override
    public synchronized Optional<Approval> get(@Nullable String tenant, @Nullable String requester, String id) {
        final Where where = new Where(tenant, requester).and("id = ?", id);
        final List<Approval> found = query("SELECT * FROM approvals" + where.sql, where.params.toArray());
        return found.isEmpty() ? Optional.empty() : Optional.of(found.get(0));
    }

    /** Approvals of one action of one requester of a tenant, newest first. */
    @Override
    public synchronized List<Approval> byHash(String tenant, String requester, String actionHash) {
        return query("SELECT * FROM approvals WHERE action_hash = ? AND tenant = ? AND requester = ? "
                     + "ORDER BY create_ms DESC, rowid DESC", actionHash, tenant, requester);
    }

    /** Approved pattern grants of a tool for one requester of a tenant. */
    @Override
    public synchronized List<Approval> patternGrants(String tenant, String requester, String tool) {
        return query("SELECT * FROM approvals WHERE tenant = ? AND requester = ? AND tool = ? AND grant_scope = ? "
                     + "AND state = ? ORDER BY create_ms, rowid", tenant, requester, tool,
                     GrantScope.GRANT_SCOPE_PATTERN_VALUE, ApprovalState.APPROVAL_STATE_APPROVED_VALUE);
    }

    @Override
    public synchronized Page<Approval> list(@Nullable String tenant, @Nullable String requester,
                                            ApprovalState state, List<String> after, int limit) {
        final Where where = new Where(tenant, requester);
        if (state != ApprovalState.APPROVAL_STATE_UNSPECIFIED) {
            where.and("state = ?", state.getNumber());
        }
        if (!after.isEmpty()) {
            final long createMs = Long.parseLong(after.get(0));
            where.and("(create_ms < ? OR create_ms = ? AND rowid < ?)", createMs);
            where.params.add(createMs);
            where.params.add(Long.parseLong(after.get(1)));
        }
        where.params.add(limit + 1);
        final List<Approval> items = new ArrayList<>();
        final List<List<String>> keys = new ArrayList<>();
        try (PreparedStatement ps = connection.prepareStatement(
                "SELECT rowid AS seq, * FROM approvals" + where.sql + " ORDER BY create_ms DESC, rowid DESC LIMIT ?")) {
            bind(ps, where.params.toArray());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    items.add(read(rs));
                    keys.add(List.of(String.valueOf(rs.getLong("create_ms")), String.valueOf(rs.getLong("seq"))));
                }
            }
        } catch (SQLException e) {
            throw health.unavailableOr(e, new IllegalStateException("cannot read approvals", e));
        }
        return page(items, keys, limit);
    }

    @Override
    public synchronized Page<Decision> decisions(String tenant, List<String> after, int limit) {
        final long before = after.isEmpty() ? Long.MAX_VALUE : Long.parseLong(after.get(0));
        try (PreparedStatement ps = connection.prepareStatement(
                "SELECT rowid, * FROM decisions WHERE tenant = ? AND rowid < ? ORDER BY rowid DESC LIMIT ?")) {
            bind(ps, tenant, before, limit + 1);
            final List<Decision> items = new ArrayList<>();
            final List<List<String>> keys = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    items.add(Decision.newBuilder()
                                      .setDecisionId(String.valueOf(rs.getLong("rowid")))
                                      .setApprovalId(rs.getString("approval_id"))
                                      .setRequestedBy(rs.getString("tenant") + '/' + rs.getString("requester"))
                                      .setDecidedBy(rs.getString("decided_by"))
                                      .setDecideTime(Timestamps.fromMillis(rs.getLong("decide_ms")))
                                      .setStateValue(rs.getInt("state"))
                                      .setGrantScopeValue(rs.getInt("grant_scope"))
                                      .setRiskValue(rs.getInt("risk"))
                                      .setToolName(rs.getString("tool"))
                                      .setActionHash(rs.getString("action_hash"))
                                      .setReason(rs.getString("reason"))
                                      .build());
                    keys.add(List.of(String.valueOf(rs.getLong("rowid"))));
                }
            }
            return page(items, keys, limit);
        } catch (SQLException e) {
            throw health.unavailableOr(e, new IllegalStateException("cannot read decisions", e));
        }
    }

    /** The first {@code limit} items (of up to {@code limit + 1} read), and the key after them if more remain. */
    private static <T> Page<T> page(List<T> items, List<List<String>> keys, int limit) {
        if (items.size() <= limit) {
            return new Page<>(items, List.of());
        }
        return new Page<>(List.copyOf(items.subList(0, limit)), keys.get(limit - 1));
    }

    /** A WHERE clause naming the tenant and requester when they are given. */
    private static final class Where {
        private final StringBuilder sql = new StringBuilder(" WHERE 1 = 1");
        private final List<Object> params = new ArrayList<>();

        Where(@Nullable String tenant, @Nullable String requester) {
            if (tenant != null) {
                and("tenant = ?", tenant);
            }
            if (requester != null) {
                and("requester = ?", requester);
            }
        }

        Where and(String condition, Object param) {
            sql.append(" AND ").append(condition);
            params.add(param);
            return this;
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
            connection.setAutoCommit(false);
            final boolean won = update(
                    "UPDATE approvals SET state = ?, grant_scope = ?, pattern = ?, decided_by = ?, decide_ms = ?, "
                    + "expire_ms = ?, reason = ? WHERE id = ? AND state = ? AND expire_ms > ?",
                    state.getNumber(), scope.getNumber(), pattern, decidedBy, decideMs, expireMs, reason, id,
                    ApprovalState.APPROVAL_STATE_PENDING_VALUE, nowMs) == 1;
            if (won) {
                update("INSERT INTO decisions (approval_id, tenant, requester, decided_by, decide_ms, state, "
                       + "grant_scope, risk, tool, action_hash, expire_ms, reason) SELECT id, tenant, requester, "
                       + "decided_by, decide_ms, state, grant_scope, risk, tool, action_hash, expire_ms, reason "
                       + "FROM approvals WHERE id = ?", id);
            }
            connection.commit();
            return won;
        } catch (SQLException | RuntimeException e) {
            rollback();
            throw e instanceof RuntimeException r ? r : new IllegalStateException("cannot decide approval", e);
        } finally {
            try {
                connection.setAutoCommit(true);
            } catch (SQLException e) {
                throw new IllegalStateException("cannot decide approval", e);
            }
        }
    }

    private void rollback() {
        try {
            connection.rollback();
        } catch (SQLException e) {
            throw new IllegalStateException("cannot roll back a decision", e);
        }
    }

    /** Uses a ONCE grant; false when it was already used. */
    @Override
    public synchronized boolean consume(String id) {
        return update("UPDATE approvals SET use_count = use_count + 1 WHERE id = ? AND use_count = 0", id) == 1;
    }

    /** Counts a use of a SESSION or PATTERN grant. */
    @Override
    public synchronized void countUse(String id) {
        update("UPDATE approvals SET use_count = use_count + 1 WHERE id = ?", id);
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
        try (PreparedStatement ps = connection.prepareStatement(
                "SELECT response FROM requests WHERE tenant = ? AND requester = ? AND request_id = ? AND create_ms >= ?")) {
            bind(ps, tenant, requester, requestId, sinceMs);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(rs.getBytes(1)) : Optional.empty();
            }
        } catch (SQLException e) {
            throw health.unavailableOr(e, new IllegalStateException("cannot read requests", e));
        }
    }

    @Override
    public synchronized void rememberResponse(String tenant, String requester, String requestId, byte[] response,
                                              long nowMs, long forgetBeforeMs) {
        update("DELETE FROM requests WHERE create_ms < ?", forgetBeforeMs);
        update("INSERT OR IGNORE INTO requests (tenant, requester, request_id, response, create_ms) "
               + "VALUES (?, ?, ?, ?, ?)", tenant, requester, requestId, response, nowMs);
    }

    private int update(String sql, Object... params) {
        try (PreparedStatement ps = connection.prepareStatement(sql)) {
            bind(ps, params);
            return ps.executeUpdate();
        } catch (SQLException e) {
            throw health.unavailableOr(e, new IllegalStateException("cannot update approvals", e));
        }
    }

    private List<Approval> query(String sql, Object... params) {
        try (PreparedStatement ps = connection.prepareStatement(sql)) {
            bind(ps, params);
            final List<Approval> list = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    list.add(read(rs));
                }
            }
            return list;
        } catch (SQLException e) {
            throw health.unavailableOr(e, new IllegalStateException("cannot read approvals", e));
        }
    }

    private static void bind(PreparedStatement ps, Object... params) throws SQLException {
        for (int i = 0; i < params.length; i++) {
            ps.setObject(i + 1, params[i]);
        }
    }

    private static Approval read(ResultSet rs) throws SQLException {
        final Struct.Builder arguments = Struct.newBuilder();
        try {
            JsonFormat.parser().merge(rs.getString("arguments"), arguments);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("corrupt arguments in approval " + rs.getString("id"), e);
        }
        final Approval.Builder a = Approval.newBuilder()
                .setApprovalId(rs.getString("id"))
                .setStateValue(rs.getInt("state"))
                .setToolName(rs.getString("tool"))
                .setArguments(arguments)
                .setWorkingDirectory(rs.getString("working_directory"))
                .setActionHash(rs.getString("action_hash"))
                .setRisk(RiskLevel.forNumber(rs.getInt("risk")))
                .setRule(rs.getString("rule"))
                .setGrantScopeValue(rs.getInt("grant_scope"))
                .setPattern(rs.getString("pattern"))
                .setSessionId(rs.getString("session_id"))
                .setRequestedBy(rs.getString("requested_by"))
                .setDecidedBy(rs.getString("decided_by"))
                .setCreateTime(Timestamps.fromMillis(rs.getLong("create_ms")))
                .setExpireTime(Timestamps.fromMillis(rs.getLong("expire_ms")))
                .setReason(rs.getString("reason"))
                .setUseCount(rs.getInt("use_count"))
                .setTenant(rs.getString("tenant"))
                .setRequester(rs.getString("requester"));
        if (rs.getLong("decide_ms") > 0) {
            a.setDecideTime(Timestamps.fromMillis(rs.getLong("decide_ms")));
        }
        return a.build();
    }

    @Override
    public synchronized void close() throws SQLException {
        health.close();
        connection.close();
    }
}
