package ai.sonia.router.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;

import javax.annotation.Nullable;

import com.zaxxer.hikari.HikariDataSource;

import ai.sonia.router.domain.BudgetLimits;
import ai.sonia.router.domain.HourTotal;
import ai.sonia.router.domain.Ledger;
import ai.sonia.router.domain.UsageRecord;
import ai.sonia.router.domain.UsageScope;
import ai.sonia.router.domain.UsageSums;
import ai.sonia.runtime.store.Postgres;

/**
 * The token and cost ledger on PostgreSQL, shared by every router replica: the same rows as
 * {@link SqliteLedger}, plus each tenant's month totals ({@code usage_month}), updated in the same transaction
 * as the rows. {@link #recordWithin} checks and charges a month in one atomic {@code INSERT ... ON CONFLICT DO
 * UPDATE ... WHERE} (the row lock held until the commit), so a budget is exact across replicas. Writes are
 * group-committed as in {@link SqliteLedger#record}: rows recorded while a batch is written wait, and the next
 * writer commits all of them in one transaction (month totals locked in key order, so replicas never deadlock).
 * Reads of one call see one snapshot (REPEATABLE READ). Schema: the Flyway migrations of
 * {@code db/postgresql/router/ledger}.
 */
public final class PostgresLedger implements Ledger, AutoCloseable {

    private static final String GROUP = SqliteLedger.GROUP;
    private static final String INSERT = SqliteLedger.INSERT;

    private static final String ADD_TO_MONTH =
            "INSERT INTO usage_month AS m (tenant, month, tokens, cost_micros) VALUES (?, ?, ?, ?)"
            + " ON CONFLICT (tenant, month) DO UPDATE SET tokens = m.tokens + EXCLUDED.tokens,"
            + " cost_micros = m.cost_micros + EXCLUDED.cost_micros";

    private static final long HOUR_MS = 3_600_000L;

    private final HikariDataSource pool;
    private final Queue<Pending> queue = new ConcurrentLinkedQueue<>();

    private PostgresLedger(HikariDataSource pool) {
        this.pool = pool;
    }

    /**
     * Connects to the settings' database and migrates the ledger's schema.
     *
     * @throws IllegalStateException when the database cannot be reached or migrated
     */
    public static PostgresLedger open(Postgres.Settings settings) {
        final HikariDataSource pool = Postgres.open(settings, "router-ledger");
        try {
            Postgres.migrate(pool, SqliteLedger.MIGRATIONS);
            return new PostgresLedger(pool);
        } catch (SQLException | RuntimeException e) {
            pool.close();
            throw new IllegalStateException("cannot open the ledger on " + settings + ": " + e.getMessage(), e);
        }
    }

    /** Writes the row and returns once it is committed; concurrent callers share one commit. */
    @Override
    public void record(UsageRecord u) {
        final Pending pending = new Pending(u);
        queue.add(pending);
        synchronized (this) {
            if (!pending.done) {
                final List<Pending> batch = new ArrayList<>();
                for (Pending next; (next = queue.poll()) != null; ) {
                    batch.add(next);
                }
                final RuntimeException failure = write(batch);
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

    /** Inserts the batch and adds it to its months in one transaction; the failure of all of it, or null. */
    @Nullable
    private RuntimeException write(List<Pending> batch) {
        // Month totals in key order: two replicas' batches lock the same rows in the same order.
        final Map<List<String>, long[]> months = new TreeMap<>((a, b) -> {
            final int byTenant = a.get(0).compareTo(b.get(0));
            return byTenant != 0 ? byTenant : a.get(1).compareTo(b.get(1));
        });
        for (Pending p : batch) {
            final long[] sums = months.computeIfAbsent(List.of(p.usage.tenant(), monthOf(p.usage)), k -> new long[2]);
            sums[0] += p.usage.promptTokens() + p.usage.completionTokens();
            sums[1] += p.usage.costMicros();
        }
        try (Connection c = pool.getConnection()) {
            c.setAutoCommit(false);
            try (PreparedStatement insert = c.prepareStatement(INSERT);
                 PreparedStatement month = c.prepareStatement(ADD_TO_MONTH)) {
                for (Map.Entry<List<String>, long[]> e : months.entrySet()) {
                    month.setString(1, e.getKey().get(0));
                    month.setString(2, e.getKey().get(1));
                    month.setLong(3, e.getValue()[0]);
                    month.setLong(4, e.getValue()[1]);
                    month.executeUpdate();
                }
                for (Pending p : batch) {
                    SqliteLedger.bindRow(insert, p.usage);
                    insert.addBatch();
                }
                insert.executeBatch();
                c.commit();
                return null;
            } catch (SQLException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            return new IllegalStateException("ledger write failed: " + e.getMessage(), e);
        }
    }

    /**
     * Charges the row's month only where the limits allow, in one statement whose row lock is held until the
     * commit, then inserts the row in the same transaction: concurrent replicas queue on the month's row and
     * each sees the totals the previous one committed.
     */
    @Override
    public boolean recordWithin(UsageRecord u, BudgetLimits limits) {
        if (!SqliteLedger.fits(limits, 0, 0, u)) {
            return false; // more than a whole month's budget on its own
        }
        try (Connection c = pool.getConnection()) {
            c.setAutoCommit(false);
            try (PreparedStatement month = c.prepareStatement(
                    ADD_TO_MONTH + " WHERE (? = 0 OR m.tokens + EXCLUDED.tokens <= ?)"
                    + " AND (? = 0 OR m.cost_micros + EXCLUDED.cost_micros <= ?)");
                 PreparedStatement insert = c.prepareStatement(INSERT)) {
                month.setString(1, u.tenant());
                month.setString(2, monthOf(u));
                month.setLong(3, u.promptTokens() + u.completionTokens());
                month.setLong(4, u.costMicros());
                month.setLong(5, limits.tokens());
                month.setLong(6, limits.tokens());
                month.setLong(7, limits.costMicros());
                month.setLong(8, limits.costMicros());
                if (month.executeUpdate() == 0) {
                    c.rollback();
                    return false;
                }
                SqliteLedger.bindRow(insert, u);
                insert.executeUpdate();
                c.commit();
                return true;
            } catch (SQLException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw new IllegalStateException("ledger write failed: " + e.getMessage(), e);
        }
    }

    private static String monthOf(UsageRecord u) {
        return SqliteLedger.dayOf(u.epochMillis()).substring(0, 7);
    }


    /** A row waiting for its batch; its fields are written and read under the ledger's monitor. */
    private static final class Pending {
        final UsageRecord usage;
        boolean done;
        @Nullable
        RuntimeException failure;

        Pending(UsageRecord usage) {
            this.usage = usage;
        }
    }

    @Override
    public UsageSums sums(UsageScope scope, String startDay, String endDay, @Nullable UsageSums.Key after,
                          int limit) {
        try (Connection c = pool.getConnection()) {
            c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
            c.setAutoCommit(false);
            try {
                final List<UsageSums.Row> rows = new ArrayList<>();
                try (PreparedStatement q = c.prepareStatement(
                        "SELECT tenant, deployment, day, COUNT(*), SUM(prompt_tokens), SUM(completion_tokens),"
                        + " SUM(cost_micros) FROM usage" + GROUP + " AND (? OR (day, tenant, deployment) > (?, ?, ?))"
                        + " GROUP BY tenant, deployment, day ORDER BY day, tenant, deployment LIMIT ?")) {
                    SqliteLedger.bind(q, scope, startDay, endDay);
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
                final UsageSums.Row total;
                try (PreparedStatement q = c.prepareStatement(
                        "SELECT COUNT(*), COALESCE(SUM(prompt_tokens), 0), COALESCE(SUM(completion_tokens), 0),"
                        + " COALESCE(SUM(cost_micros), 0) FROM usage" + GROUP)) {
                    SqliteLedger.bind(q, scope, startDay, endDay);
                    try (ResultSet rs = q.executeQuery()) {
                        rs.next();
                        total = new UsageSums.Row("", "", "", rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getLong(4));
                    }
                }
                return new UsageSums(rows, total);
            } finally {
                c.commit();
            }
        } catch (SQLException e) {
            throw new IllegalStateException("ledger read failed: " + e.getMessage(), e);
        }
    }

    @Override
    public List<HourTotal> hourlyTotals(UsageScope scope, long fromHour) {
        final List<HourTotal> hours = new ArrayList<>();
        final long fromMs = Math.multiplyExact(fromHour, HOUR_MS);
        try (Connection c = pool.getConnection();
             PreparedStatement q = c.prepareStatement(
                     "SELECT ts_ms / " + HOUR_MS + ", SUM(prompt_tokens), SUM(completion_tokens), SUM(cost_micros)"
                     + " FROM usage" + GROUP + " AND ts_ms >= ? GROUP BY 1 ORDER BY 1")) {
            SqliteLedger.bind(q, scope, SqliteLedger.dayOf(fromMs), "");
            q.setLong(9, fromMs);
            try (ResultSet rs = q.executeQuery()) {
                while (rs.next()) {
                    hours.add(new HourTotal(rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getLong(4)));
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException("ledger read failed: " + e.getMessage(), e);
        }
        return hours;
    }

    @Override
    public Charged chargedSince(String tenant, String fromDay) {
        try (Connection c = pool.getConnection();
             PreparedStatement q = c.prepareStatement(
                     "SELECT COALESCE(SUM(prompt_tokens + completion_tokens), 0), COALESCE(SUM(cost_micros), 0)"
                     + " FROM usage WHERE tenant = ? AND day >= ?")) {
            q.setString(1, tenant);
            q.setString(2, fromDay);
            try (ResultSet rs = q.executeQuery()) {
                rs.next();
                return new Charged(rs.getLong(1), rs.getLong(2));
            }
        } catch (SQLException e) {
            throw new IllegalStateException("ledger read failed: " + e.getMessage(), e);
        }
    }


    @Override
    public void close() {
        pool.close();
    }
}
