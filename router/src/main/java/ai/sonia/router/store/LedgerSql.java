package ai.sonia.router.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

import javax.annotation.Nullable;

import ai.sonia.router.domain.BudgetLimits;
import ai.sonia.router.domain.HourTotal;
import ai.sonia.router.domain.Ledger;
import ai.sonia.router.domain.UsageRecord;
import ai.sonia.router.domain.UsageScope;
import ai.sonia.router.domain.UsageSums;
import ai.sonia.runtime.store.Sql;

/**
 * What the ledger's engines share: the {@code usage} table's statements (the same SQL on SQLite and
 * PostgreSQL), and the group commit of {@link Ledger#record}.
 */
final class LedgerSql {

    static final String INSERT =
            "INSERT INTO usage (ts_ms, day, tenant, principal, alias, deployment, provider, prompt_tokens,"
            + " completion_tokens, cost_micros, latency_ms) VALUES (?,?,?,?,?,?,?,?,?,?,?)";

    private static final String GROUP = " WHERE (? = '' OR tenant = ?) AND (? = '' OR principal = ?)"
                                        + " AND (? = '' OR day >= ?) AND (? = '' OR day <= ?)";

    private static final long HOUR_MS = 3_600_000L;

    /** Writes a batch of rows in one transaction; the failure of all of it, or null. */
    @FunctionalInterface
    interface BatchWriter {
        @Nullable
        RuntimeException write(List<UsageRecord> batch);
    }

    /**
     * Group commit: rows recorded while another batch is being written wait in a queue, and the next writer
     * (holding {@code monitor}) commits all of them in one transaction, so concurrent callers share one commit
     * instead of queueing for one each. Returns once the row is committed; a batch that fails fails every row
     * in it.
     */
    static final class GroupCommit {
        private final Queue<Pending> queue = new ConcurrentLinkedQueue<>();

        void record(UsageRecord u, Object monitor, BatchWriter writer) {
            final Pending pending = new Pending(u);
            queue.add(pending);
            synchronized (monitor) {
                if (!pending.done) {
                    final List<Pending> batch = new ArrayList<>();
                    for (Pending next; (next = queue.poll()) != null; ) {
                        batch.add(next);
                    }
                    final RuntimeException failure = writer.write(batch.stream().map(p -> p.usage).toList());
                    for (Pending p : batch) {
                        p.failure = failure;
                        p.done = true;
                    }
                }
            }
            if (pending.failure != null) {
                throw pending.failure;
            }
        }

        /** A row waiting for its batch; its fields are written and read under the monitor. */
        private static final class Pending {
            final UsageRecord usage;
            boolean done;
            @Nullable
            RuntimeException failure;

            Pending(UsageRecord usage) {
                this.usage = usage;
            }
        }
    }

    static void bindRow(PreparedStatement insert, UsageRecord u) throws SQLException {
        insert.setLong(1, u.epochMillis());
        insert.setString(2, dayOf(u.epochMillis()));
        insert.setString(3, u.tenant());
        insert.setString(4, u.principal());
        insert.setString(5, u.alias());
        insert.setString(6, u.deployment());
        insert.setString(7, u.provider());
        insert.setLong(8, u.promptTokens());
        insert.setLong(9, u.completionTokens());
        insert.setLong(10, u.costMicros());
        insert.setLong(11, u.latencyMs());
    }

    /** Whether {@code u} fits {@code limits} on top of what its tenant's month already holds. */
    static boolean fits(BudgetLimits limits, long spentTokens, long spentCost, UsageRecord u) {
        return (limits.tokens() == 0 || spentTokens + u.promptTokens() + u.completionTokens() <= limits.tokens())
               && (limits.costMicros() == 0 || spentCost + u.costMicros() <= limits.costMicros());
    }

    /** The page of sums and their total, read on {@code c} (the caller makes it one snapshot). */
    static UsageSums sums(Connection c, UsageScope scope, String startDay, String endDay,
                          @Nullable UsageSums.Key after, int limit) throws SQLException {
        final List<UsageSums.Row> rows = new ArrayList<>();
        try (PreparedStatement q = c.prepareStatement(
                "SELECT tenant, deployment, day, COUNT(*), SUM(prompt_tokens), SUM(completion_tokens),"
                + " SUM(cost_micros) FROM usage" + GROUP + " AND (? OR (day, tenant, deployment) > (?, ?, ?))"
                + " GROUP BY tenant, deployment, day ORDER BY day, tenant, deployment LIMIT ?")) {
            bind(q, scope, startDay, endDay);
            q.setBoolean(9, after == null);
            q.setString(10, after == null ? "" : after.day());
            q.setString(11, after == null ? "" : after.tenant());
            q.setString(12, after == null ? "" : after.model());
            q.setInt(13, limit);
            try (ResultSet rs = q.executeQuery()) {
                while (rs.next()) {
                    rows.add(new UsageSums.Row(rs.getString(1), rs.getString(2), rs.getString(3), rs.getLong(4),
                                               rs.getLong(5), rs.getLong(6), rs.getLong(7)));
                }
            }
        }
        try (PreparedStatement q = c.prepareStatement(
                "SELECT COUNT(*), COALESCE(SUM(prompt_tokens), 0), COALESCE(SUM(completion_tokens), 0),"
                + " COALESCE(SUM(cost_micros), 0) FROM usage" + GROUP)) {
            bind(q, scope, startDay, endDay);
            try (ResultSet rs = q.executeQuery()) {
                rs.next();
                return new UsageSums(rows, new UsageSums.Row("", "", "", rs.getLong(1), rs.getLong(2), rs.getLong(3),
                                                             rs.getLong(4)));
            }
        }
    }

    static List<HourTotal> hourlyTotals(Connection c, UsageScope scope, long fromHour) throws SQLException {
        final List<HourTotal> hours = new ArrayList<>();
        final long fromMs = Math.multiplyExact(fromHour, HOUR_MS);
        // The day bound lets the (tenant, day) index narrow the rows before ts_ms does.
        try (PreparedStatement q = c.prepareStatement(
                "SELECT ts_ms / " + HOUR_MS + ", SUM(prompt_tokens), SUM(completion_tokens), SUM(cost_micros) FROM usage"
                + GROUP + " AND ts_ms >= ? GROUP BY 1 ORDER BY 1")) {
            bind(q, scope, dayOf(fromMs), "");
            q.setLong(9, fromMs);
            try (ResultSet rs = q.executeQuery()) {
                while (rs.next()) {
                    hours.add(new HourTotal(rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getLong(4)));
                }
            }
        }
        return hours;
    }

    static Ledger.Charged chargedSince(Connection c, String tenant, String fromDay) throws SQLException {
        try (PreparedStatement q = c.prepareStatement(
                "SELECT COALESCE(SUM(prompt_tokens + completion_tokens), 0), COALESCE(SUM(cost_micros), 0)"
                + " FROM usage WHERE tenant = ? AND day >= ?")) {
            q.setString(1, tenant);
            q.setString(2, fromDay);
            try (ResultSet rs = q.executeQuery()) {
                rs.next();
                return new Ledger.Charged(rs.getLong(1), rs.getLong(2));
            }
        }
    }

    static String dayOf(long epochMillis) {
        return LocalDate.ofInstant(Instant.ofEpochMilli(epochMillis), ZoneOffset.UTC).toString();
    }

    /** The row's UTC month, "YYYY-MM". */
    static String monthOf(UsageRecord u) {
        return dayOf(u.epochMillis()).substring(0, 7);
    }

    private static void bind(PreparedStatement q, UsageScope scope, String startDay, String endDay)
            throws SQLException {
        Sql.bind(q, scope.tenant(), scope.tenant(), scope.principal(), scope.principal(), startDay, startDay, endDay,
                 endDay);
    }

    private LedgerSql() {}
}
