package ai.sonia.evaos.store;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

import javax.annotation.Nullable;

import org.flywaydb.core.api.migration.JavaMigration;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.util.JsonFormat;
import com.google.protobuf.util.Timestamps;

import ai.sonia.evaos.domain.ApprovalStore;
import ai.sonia.evaos.domain.CanonicalJson;
import ai.sonia.evaos.v1.Approval;
import ai.sonia.evaos.v1.ApprovalState;
import ai.sonia.evaos.v1.Decision;
import ai.sonia.options.v1.RiskLevel;
import ai.sonia.runtime.store.AppendOnly;

/**
 * The approvals' and decisions' rows as both engines keep them ({@link SqliteApprovalStore},
 * {@link PostgresApprovalStore}): the column list and its parameters, the row mappings, the listing's WHERE
 * clause and pages. Each engine's own key column is read as {@code seq} (SQLite's rowid, PostgreSQL's serial).
 */
final class ApprovalRows {

    /** The approvals' migration (both engines) that keeps {@code decisions} append-only. */
    static final JavaMigration APPEND_ONLY = AppendOnly.migration("6", "decisions", "decisions are append-only");

    static final String INSERT =
            "INSERT INTO approvals (id, state, tool, arguments, working_directory, action_hash, risk, rule, "
            + "grant_scope, pattern, session_id, requested_by, decided_by, create_ms, decide_ms, expire_ms, "
            + "reason, use_count, tenant, requester) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";

    /** Appends the decision just written on approval {@code ?} to the append-only record. */
    static final String RECORD_DECISION =
            "INSERT INTO decisions (approval_id, tenant, requester, decided_by, decide_ms, state, grant_scope, "
            + "risk, tool, action_hash, expire_ms, reason) SELECT id, tenant, requester, decided_by, decide_ms, "
            + "state, grant_scope, risk, tool, action_hash, expire_ms, reason FROM approvals WHERE id = ?";

    /** Decides a pending approval that has not expired: (state, scope, pattern, by, at, expiry, reason, id, now). */
    static final String DECIDE =
            "UPDATE approvals SET state = ?, grant_scope = ?, pattern = ?, decided_by = ?, decide_ms = ?, "
            + "expire_ms = ?, reason = ? WHERE id = ? AND state = " + ApprovalState.APPROVAL_STATE_PENDING_VALUE
            + " AND expire_ms > ?";

    static final String CONSUME = "UPDATE approvals SET use_count = use_count + 1 WHERE id = ? AND use_count = 0";

    static final String COUNT_USE = "UPDATE approvals SET use_count = use_count + 1 WHERE id = ?";

    /** Approvals of one action of one requester, newest first; {@code %s} is the engine's key column. */
    static final String BY_HASH = "SELECT * FROM approvals WHERE action_hash = ? AND tenant = ? AND requester = ? "
                                  + "ORDER BY create_ms DESC, %s DESC";

    /** Approved pattern grants of a tool for one requester, oldest first; {@code %s} is the key column. */
    static final String PATTERN_GRANTS =
            "SELECT * FROM approvals WHERE tenant = ? AND requester = ? AND tool = ? AND grant_scope = ? "
            + "AND state = ? ORDER BY create_ms, %s";

    static final String RESPONSE = "SELECT response FROM requests WHERE tenant = ? AND requester = ? "
                                   + "AND request_id = ? AND create_ms >= ?";

    static final String FORGET_RESPONSES = "DELETE FROM requests WHERE create_ms < ?";

    /** The parameters of {@link #INSERT}. */
    static Object[] insertParams(Approval a) {
        return new Object[] {
                a.getApprovalId(), a.getStateValue(), a.getToolName(), CanonicalJson.of(a.getArguments()),
                a.getWorkingDirectory(), a.getActionHash(), a.getRiskValue(), a.getRule(), a.getGrantScopeValue(),
                a.getPattern(), a.getSessionId(), a.getRequestedBy(), a.getDecidedBy(),
                Timestamps.toMillis(a.getCreateTime()), Timestamps.toMillis(a.getDecideTime()),
                Timestamps.toMillis(a.getExpireTime()), a.getReason(), a.getUseCount(), a.getTenant(),
                a.getRequester() };
    }

    /** A WHERE clause naming the tenant and requester when they are given. */
    static final class Where {
        final StringBuilder sql = new StringBuilder(" WHERE 1 = 1");
        final List<Object> params = new ArrayList<>();

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
     * The listing's query: approvals of {@code tenant} and {@code requester} in {@code state}, newest first,
     * after the key {@code after}, up to {@code limit + 1} rows; {@code seq} names the engine's key column.
     */
    static Where listing(@Nullable String tenant, @Nullable String requester, ApprovalState state,
                         List<String> after, int limit, String seq) {
        final Where where = new Where(tenant, requester);
        if (state != ApprovalState.APPROVAL_STATE_UNSPECIFIED) {
            where.and("state = ?", state.getNumber());
        }
        if (!after.isEmpty()) {
            final long createMs = Long.parseLong(after.get(0));
            where.and("(create_ms < ? OR create_ms = ? AND " + seq + " < ?)", createMs);
            where.params.add(createMs);
            where.params.add(Long.parseLong(after.get(1)));
        }
        where.sql.append(" ORDER BY create_ms DESC, ").append(seq).append(" DESC LIMIT ?");
        where.params.add(limit + 1);
        return where;
    }

    /** Reads a listing's rows (with their {@code seq}) as a page. */
    static ApprovalStore.Page<Approval> approvals(ResultSet rs, int limit) throws SQLException {
        final List<Approval> items = new ArrayList<>();
        final List<List<String>> keys = new ArrayList<>();
        while (rs.next()) {
            items.add(read(rs));
            keys.add(List.of(String.valueOf(rs.getLong("create_ms")), String.valueOf(rs.getLong("seq"))));
        }
        return page(items, keys, limit);
    }

    /** Reads decision rows (with their {@code seq}, the decision id) as a page. */
    static ApprovalStore.Page<Decision> decisions(ResultSet rs, int limit) throws SQLException {
        final List<Decision> items = new ArrayList<>();
        final List<List<String>> keys = new ArrayList<>();
        while (rs.next()) {
            items.add(Decision.newBuilder()
                              .setDecisionId(String.valueOf(rs.getLong("seq")))
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
            keys.add(List.of(String.valueOf(rs.getLong("seq"))));
        }
        return page(items, keys, limit);
    }

    /** The first {@code limit} items (of up to {@code limit + 1} read), and the key after them if more remain. */
    private static <T> ApprovalStore.Page<T> page(List<T> items, List<List<String>> keys, int limit) {
        if (items.size() <= limit) {
            return new ApprovalStore.Page<>(items, List.of());
        }
        return new ApprovalStore.Page<>(List.copyOf(items.subList(0, limit)), keys.get(limit - 1));
    }

    static Approval read(ResultSet rs) throws SQLException {
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

    private ApprovalRows() {}
}
