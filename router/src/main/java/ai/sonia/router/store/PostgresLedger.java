package ai.sonia.router.store;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import javax.annotation.Nullable;

import ai.sonia.router.domain.BudgetLimits;
import ai.sonia.router.domain.HourTotal;
import ai.sonia.router.domain.Ledger;
import ai.sonia.router.domain.UsageRecord;
import ai.sonia.router.domain.UsageScope;
import ai.sonia.router.domain.UsageSums;
import ai.sonia.runtime.store.Postgres;
import ai.sonia.runtime.store.PostgresPool;

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

    private static final String ADD_TO_MONTH =
            "INSERT INTO usage_month AS m (tenant, month, tokens, cost_micros) VALUES (?, ?, ?, ?)"
            + " ON CONFLICT (tenant, month) DO UPDATE SET tokens = m.tokens + EXCLUDED.tokens,"
            + " cost_micros = m.cost_micros + EXCLUDED.cost_micros";

    private static final String POOL = "router-ledger";

    private final PostgresPool pool;
    private final LedgerSql.GroupCommit groupCommit = new LedgerSql.GroupCommit();

    private PostgresLedger(PostgresPool pool) {
        this.pool = pool;
    }

    /**
     * Connects to the settings' database and migrates the ledger's schema.
     *
     * @throws IllegalStateException when the database cannot be reached or migrated
     */
    public static PostgresLedger open(Postgres.Settings settings) {
        return new PostgresLedger(PostgresPool.open(settings, POOL, SqliteLedger.MIGRATIONS, "router", POOL));
    }

    /** Writes the row and returns once it is committed; concurrent callers share one commit. */
    @Override
    public void record(UsageRecord u) {
        groupCommit.record(u, this, this::write);
    }

    /** Inserts the batch and adds it to its months in one transaction; the failure of all of it, or null. */
    @Nullable
    private RuntimeException write(List<UsageRecord> batch) {
        // Month totals in key order: two replicas' batches lock the same rows in the same order.
        final Map<List<String>, long[]> months = new TreeMap<>((a, b) -> {
            final int byTenant = a.get(0).compareTo(b.get(0));
            return byTenant != 0 ? byTenant : a.get(1).compareTo(b.get(1));
        });
        for (UsageRecord u : batch) {
            final long[] sums = months.computeIfAbsent(List.of(u.tenant(), LedgerSql.monthOf(u)), k -> new long[2]);
            sums[0] += u.promptTokens() + u.completionTokens();
            sums[1] += u.costMicros();
        }
        try {
            return pool.inTransaction(c -> {
                try (PreparedStatement insert = c.prepareStatement(LedgerSql.INSERT);
                     PreparedStatement month = c.prepareStatement(ADD_TO_MONTH)) {
                    for (Map.Entry<List<String>, long[]> e : months.entrySet()) {
                        month.setString(1, e.getKey().get(0));
                        month.setString(2, e.getKey().get(1));
                        month.setLong(3, e.getValue()[0]);
                        month.setLong(4, e.getValue()[1]);
                        month.executeUpdate();
                    }
                    for (UsageRecord u : batch) {
                        LedgerSql.bindRow(insert, u);
                        insert.addBatch();
                    }
                    insert.executeBatch();
                    return null;
                }
            });
        } catch (RuntimeException e) {
            return e;
        }
    }

    /**
     * Charges the row's month only where the limits allow, in one statement whose row lock is held until the
     * commit, then inserts the row in the same transaction: concurrent replicas queue on the month's row and
     * each sees the totals the previous one committed.
     */
    @Override
    public boolean recordWithin(UsageRecord u, BudgetLimits limits) {
        if (!LedgerSql.fits(limits, 0, 0, u)) {
            return false; // more than a whole month's budget on its own
        }
        return pool.inTransaction(c -> {
            try (PreparedStatement month = c.prepareStatement(
                    ADD_TO_MONTH + " WHERE (? = 0 OR m.tokens + EXCLUDED.tokens <= ?)"
                    + " AND (? = 0 OR m.cost_micros + EXCLUDED.cost_micros <= ?)");
                 PreparedStatement insert = c.prepareStatement(LedgerSql.INSERT)) {
                month.setString(1, u.tenant());
                month.setString(2, LedgerSql.monthOf(u));
                month.setLong(3, u.promptTokens() + u.completionTokens());
                month.setLong(4, u.costMicros());
                month.setLong(5, limits.tokens());
                month.setLong(6, limits.tokens());
                month.setLong(7, limits.costMicros());
                month.setLong(8, limits.costMicros());
                if (month.executeUpdate() == 0) {
                    return false; // nothing written: the commit is empty
                }
                LedgerSql.bindRow(insert, u);
                insert.executeUpdate();
                return true;
            }
        });
    }


    @Override
    public UsageSums sums(UsageScope scope, String startDay, String endDay, @Nullable UsageSums.Key after,
                          int limit) {
        return pool.inSnapshot(c -> LedgerSql.sums(c, scope, startDay, endDay, after, limit));
    }

    @Override
    public List<HourTotal> hourlyTotals(UsageScope scope, long fromHour) {
        return pool.inTransaction(c -> LedgerSql.hourlyTotals(c, scope, fromHour));
    }

    /**
     * From the first of a month (what every budget admission asks on a shared ledger), read from the month
     * totals, which the rows' own transactions keep: one index lookup instead of a sum over the month's rows.
     */
    @Override
    public Charged chargedSince(String tenant, String fromDay) {
        return pool.inTransaction(c -> {
            if (fromDay.length() == 10 && fromDay.endsWith("-01")) {
                try (PreparedStatement q = c.prepareStatement(
                        "SELECT COALESCE(SUM(tokens), 0), COALESCE(SUM(cost_micros), 0) FROM usage_month"
                        + " WHERE tenant = ? AND month >= ?")) {
                    q.setString(1, tenant);
                    q.setString(2, fromDay.substring(0, 7));
                    try (ResultSet rs = q.executeQuery()) {
                        rs.next();
                        return new Charged(rs.getLong(1), rs.getLong(2));
                    }
                }
            }
            return LedgerSql.chargedSince(c, tenant, fromDay);
        });
    }

    @Override
    public void close() {
        pool.close();
    }
}
