package ai.sonia.router.domain;

import java.util.List;

import javax.annotation.Nullable;

/** Where served requests are accounted. */
public interface Ledger {

    /** Records one served request durably before the caller gets its answer. */
    void record(UsageRecord usage);

    /**
     * Records the row only if its tenant's charges in the row's UTC month, this row included, stay within
     * {@code limits} (0: no limit on that side), decided atomically against every writer of the same ledger
     * (other replicas on the same database included): never read-then-write. Returns false, and writes
     * nothing, when the row would pass a limit.
     */
    boolean recordWithin(UsageRecord usage, BudgetLimits limits);

    /** Tokens and cost charged to {@code tenant} on days from {@code fromDay} ("YYYY-MM-DD", UTC) on. */
    Charged chargedSince(String tenant, String fromDay);

    /**
     * Sums by tenant, deployment and day, ordered by {@link UsageSums.Key}: at most {@code limit} groups,
     * those after {@code after} (every group when null). The total covers every group in range, summed on its
     * own over the same snapshot. An empty day means no bound on that side.
     */
    UsageSums sums(UsageScope scope, String startDay, String endDay, @Nullable UsageSums.Key after, int limit);

    /**
     * Total tokens and cost per UTC hour (hours since the epoch) from the hour {@code fromHour} (inclusive), oldest
     * first; hours without usage are absent.
     */
    List<HourTotal> hourlyTotals(UsageScope scope, long fromHour);

    /** What a tenant was charged. */
    record Charged(long tokens, long costMicros) {}
}
