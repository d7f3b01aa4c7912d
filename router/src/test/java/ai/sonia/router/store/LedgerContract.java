package ai.sonia.router.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import ai.sonia.common.v1.ErrorCode;
import ai.sonia.router.domain.BudgetLimits;
import ai.sonia.router.domain.BudgetState;
import ai.sonia.router.domain.Budgets;
import ai.sonia.router.domain.HourTotal;
import ai.sonia.router.domain.Ledger;
import ai.sonia.router.domain.UsageRecord;
import ai.sonia.router.domain.UsageScope;
import ai.sonia.router.domain.UsageSums;
import ai.sonia.runtime.errors.DomainException;

/**
 * What every {@link Ledger} must do, whatever engine holds it: exact sums, tenant and principal isolation,
 * day bounds, and, with {@link Budgets} on top, reservations that never let a tenant overspend under
 * concurrent callers. An implementation's test extends this class and says how to make an empty ledger.
 */
public abstract class LedgerContract {

    /** Mid-month, so that every row of a test falls in one budget period. */
    static final Instant NOW = Instant.parse("2026-05-14T12:00:00Z");
    static final String TODAY = "2026-05-14";
    static final long NOW_HOUR = NOW.toEpochMilli() / 3_600_000L;
    private static final long DAY_MS = TimeUnit.DAYS.toMillis(1);
    private static final int THREADS = 16;

    /** A new, empty ledger; the test's own cleanup closes it. */
    protected abstract Ledger newLedger();

    @Test
    void sumsGroupByTenantDeploymentAndDayAndAddUpToTheTotal() {
        final Ledger ledger = newLedger();
        ledger.record(row(0, "acme", "alice", "gpt", 10, 5, 7));
        ledger.record(row(0, "acme", "bob", "gpt", 1, 2, 3));
        ledger.record(row(0, "acme", "alice", "claude", 4, 4, 40));
        ledger.record(row(-1, "globex", "gina", "gpt", 100, 50, 70));

        final UsageSums sums = all(ledger, new UsageScope("", ""), "", "");
        assertThat(sums.rows()).containsExactly(
                new UsageSums.Row("globex", "gpt", "2026-05-13", 1, 100, 50, 70),
                new UsageSums.Row("acme", "claude", TODAY, 1, 4, 4, 40),
                new UsageSums.Row("acme", "gpt", TODAY, 2, 11, 7, 10));
        assertThat(sums.total()).isEqualTo(new UsageSums.Row("", "", "", 4, 115, 61, 120));
    }

    @Test
    void anEmptyLedgerSumsToZero() {
        final UsageSums sums = all(newLedger(), new UsageScope("acme", ""), "", "");
        assertThat(sums.rows()).isEmpty();
        assertThat(sums.total()).isEqualTo(new UsageSums.Row("", "", "", 0, 0, 0, 0));
        assertThat(newLedger().chargedSince("acme", TODAY)).isEqualTo(new Ledger.Charged(0, 0));
    }

    @Test
    void aTenantSeesOnlyItsOwnRowsAndAPrincipalOnlyItsOwnRequests() {
        final Ledger ledger = newLedger();
        ledger.record(row(0, "acme", "alice", "gpt", 10, 5, 7));
        ledger.record(row(0, "acme", "bob", "gpt", 1, 2, 3));
        ledger.record(row(0, "globex", "alice", "gpt", 100, 50, 70));

        assertThat(all(ledger, new UsageScope("acme", ""), "", "").total().requests()).isEqualTo(2);
        assertThat(all(ledger, new UsageScope("acme", ""), "", "").rows())
                .extracting(UsageSums.Row::tenant).containsOnly("acme");
        // The same user name in another tenant is another principal.
        assertThat(all(ledger, new UsageScope("acme", "alice"), "", "").total())
                .isEqualTo(new UsageSums.Row("", "", "", 1, 10, 5, 7));
        assertThat(ledger.chargedSince("acme", TODAY)).isEqualTo(new Ledger.Charged(18, 10));
        assertThat(ledger.chargedSince("globex", TODAY)).isEqualTo(new Ledger.Charged(150, 70));
        assertThat(ledger.chargedSince("initech", TODAY)).isEqualTo(new Ledger.Charged(0, 0));
        assertThat(ledger.hourlyTotals(new UsageScope("globex", ""), NOW_HOUR - 24))
                .containsExactly(new HourTotal(NOW_HOUR, 100, 50, 70));
    }

    @Test
    void dayBoundsAreInclusiveAndHourlyTotalsAreOldestFirst() {
        final Ledger ledger = newLedger();
        for (int day = -3; day <= 0; day++) {
            ledger.record(row(day, "acme", "alice", "gpt", 10, 1, 2));
        }
        assertThat(all(ledger, new UsageScope("", ""), "2026-05-12", "2026-05-13").rows())
                .extracting(UsageSums.Row::day).containsExactly("2026-05-12", "2026-05-13");
        assertThat(all(ledger, new UsageScope("", ""), "2026-05-13", "").total().requests()).isEqualTo(2);
        assertThat(all(ledger, new UsageScope("", ""), "", "2026-05-11").total().requests()).isEqualTo(1);
        assertThat(ledger.chargedSince("acme", "2026-05-13")).isEqualTo(new Ledger.Charged(22, 4));
        // From mid-day: the row of that day's noon is in, as is every later one; the hour bound is inclusive.
        assertThat(ledger.hourlyTotals(new UsageScope("acme", ""), NOW_HOUR - 48))
                .extracting(HourTotal::hour)
                .containsExactly(NOW_HOUR - 48, NOW_HOUR - 24, NOW_HOUR);
        ledger.record(new UsageRecord(NOW.toEpochMilli() + 59 * 60_000, "acme", "alice", "default", "gpt", "openai",
                                      5, 5, 1, 12));
        assertThat(ledger.hourlyTotals(new UsageScope("acme", "alice"), NOW_HOUR))
                .containsExactly(new HourTotal(NOW_HOUR, 15, 6, 3));
    }

    @Test
    void rowsRecordedFromManyThreadsAreAllCounted() throws Exception {
        final Ledger ledger = newLedger();
        final int perThread = 25;
        runConcurrently(THREADS, thread -> {
            for (int i = 0; i < perThread; i++) {
                ledger.record(row(0, "tenant-" + thread % 4, "user-" + thread, "gpt", 3, 2, 1));
            }
        });
        final UsageSums sums = all(ledger, new UsageScope("", ""), "", "");
        assertThat(sums.total()).isEqualTo(new UsageSums.Row("", "", "", THREADS * perThread, 3L * THREADS * perThread,
                                                             2L * THREADS * perThread, (long) THREADS * perThread));
        assertThat(sums.rows()).hasSize(4);
        assertThat(ledger.chargedSince("tenant-1", TODAY).tokens()).isEqualTo(5L * perThread * THREADS / 4);
    }

    @Test
    void settlementReplacesTheReservationWithWhatTheLedgerCharged() {
        final Ledger ledger = newLedger();
        final Budgets budgets = budgets(ledger, new BudgetLimits(1_000, 500));
        final Budgets.Reservation reservation = budgets.reserve("acme", 300, 200);
        assertThat(budgets.state("acme")).extracting(BudgetState::reservedTokens, BudgetState::reservedCostMicros)
                                         .containsExactly(300L, 200L);

        budgets.settle(reservation, row(0, "acme", "alice", "gpt", 100, 20, 30));
        final BudgetState state = budgets.state("acme");
        assertThat(state.spentTokens()).isEqualTo(120);
        assertThat(state.spentCostMicros()).isEqualTo(30);
        assertThat(state.reservedTokens()).isZero();
        assertThat(state.remainingTokens()).isEqualTo(880);
        assertThat(ledger.chargedSince("acme", "2026-05-01")).isEqualTo(new Ledger.Charged(120, 30));

        budgets.release(budgets.reserve("acme", 880, 0));
        assertThat(budgets.state("acme").reservedTokens()).isZero();
        assertThatThrownBy(() -> budgets.reserve("acme", 881, 0)).hasMessageContaining("token budget");
    }

    @Test
    void aNewBudgetsReadsWhatTheLedgerAlreadyChargedThisMonth() {
        final Ledger ledger = newLedger();
        ledger.record(row(0, "acme", "alice", "gpt", 100, 20, 30));
        ledger.record(row(-20, "acme", "alice", "gpt", 1_000, 0, 0)); // last month
        final BudgetState state = budgets(ledger, new BudgetLimits(1_000, 0)).state("acme");
        assertThat(state.spentTokens()).isEqualTo(120);
        assertThat(state.period().toString()).isEqualTo("2026-05");
    }

    @Test
    void concurrentReservationsFromManyThreadsNeverOverspend() throws Exception {
        final Ledger ledger = newLedger();
        final long perCall = 7;
        final long limit = 100 * perCall + perCall - 1; // room for exactly 100 calls
        final Budgets budgets = budgets(ledger, new BudgetLimits(limit, 0));
        final AtomicInteger admitted = new AtomicInteger();
        runConcurrently(THREADS, thread -> {
            // Until the budget is spent: a refusal while others hold reservations is tried again.
            for (int i = 0; budgets.state("acme").spentTokens() + perCall <= limit; i++) {
                final Budgets.Reservation reservation;
                try {
                    reservation = budgets.reserve("acme", perCall, 0);
                } catch (RuntimeException e) {
                    assertThat(e).hasMessageContaining("token budget");
                    continue;
                }
                admitted.incrementAndGet();
                if (i % 5 == 4) {
                    budgets.release(reservation); // a call no deployment answered
                    admitted.decrementAndGet();
                } else {
                    budgets.settle(reservation, row(0, "acme", "user-" + thread, "gpt", perCall - 2, 2, 0));
                }
            }
            // Another tenant is never held back by acme's budget.
            budgets.settle(budgets.reserve("globex", 1_000_000, 0), row(0, "globex", "g", "gpt", 1, 1, 0));
        });

        assertThat(admitted.get()).isEqualTo(100);
        final BudgetState acme = budgets.state("acme");
        assertThat(acme.spentTokens()).isEqualTo(100 * perCall).isLessThanOrEqualTo(limit);
        assertThat(acme.reservedTokens()).isZero();
        assertThat(ledger.chargedSince("acme", TODAY).tokens()).isEqualTo(acme.spentTokens());
        assertThat(all(ledger, new UsageScope("acme", ""), "", "").total().requests()).isEqualTo(100);
        assertThat(ledger.chargedSince("globex", TODAY).tokens()).isEqualTo(2L * THREADS);
    }

    /**
     * Two replicas' books on one ledger ({@code shared}): each admits against what the ledger holds, and the one
     * settling second, finding no room left, is refused with the budget error and writes nothing.
     */
    @Test
    void sharedBudgetsOfTwoReplicasRefuseAtSettlementWhatTheOtherLeftNoRoomFor() {
        final Ledger ledger = newLedger();
        final Budgets a = sharedBudgets(ledger, new BudgetLimits(100, 0));
        final Budgets b = sharedBudgets(ledger, new BudgetLimits(100, 0));
        final Budgets.Reservation first = a.reserve("acme", 70, 0);
        final Budgets.Reservation second = b.reserve("acme", 70, 0); // b cannot see a's call in flight
        a.settle(first, row(0, "acme", "alice", "gpt", 60, 10, 0));
        assertThatThrownBy(() -> b.settle(second, row(0, "acme", "bob", "gpt", 60, 10, 0)))
                .isInstanceOfSatisfying(DomainException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.ERROR_CODE_RATE_LIMITED);
                    assertThat(e.metadata()).containsEntry("budget", "token").containsEntry("spent", "70")
                                            .containsEntry("limit", "100");
                });
        assertThat(ledger.chargedSince("acme", "2026-05-01")).isEqualTo(new Ledger.Charged(70, 0));
        // Each replica's books read the ledger: b now sees a's charge and refuses at admission.
        assertThat(b.state("acme").spentTokens()).isEqualTo(70);
        assertThat(b.state("acme").reservedTokens()).isZero();
        assertThatThrownBy(() -> b.reserve("acme", 31, 0)).hasMessageContaining("token budget");
        // A tenant without limits is charged without a check.
        b.settle(b.reserve("globex", 1_000, 0), row(0, "globex", "gina", "gpt", 500, 500, 0));
        assertThat(ledger.chargedSince("globex", "2026-05-01").tokens()).isEqualTo(1_000);
    }

    @Test
    void recordWithinWritesOnlyWhatTheMonthsLimitsStillCover() {
        final Ledger ledger = newLedger();
        final BudgetLimits limits = new BudgetLimits(100, 50);
        ledger.record(row(-20, "acme", "alice", "gpt", 90, 0, 0)); // last month: not this month's
        assertThat(ledger.recordWithin(row(0, "acme", "alice", "gpt", 60, 20, 30), limits)).isTrue();
        assertThat(ledger.recordWithin(row(0, "acme", "alice", "gpt", 15, 10, 1), limits)).isFalse(); // tokens
        assertThat(ledger.recordWithin(row(0, "acme", "alice", "gpt", 1, 1, 21), limits)).isFalse(); // cost
        assertThat(ledger.recordWithin(row(0, "acme", "alice", "gpt", 10, 10, 20), limits)).isTrue(); // exactly
        assertThat(ledger.recordWithin(row(0, "globex", "gina", "gpt", 1_000, 0, 0), limits)).isFalse();
        assertThat(ledger.recordWithin(row(0, "globex", "gina", "gpt", 1_000, 0, 0), BudgetLimits.UNLIMITED)).isTrue();
        assertThat(ledger.chargedSince("acme", "2026-05-01")).isEqualTo(new Ledger.Charged(100, 50));
        assertThat(all(ledger, new UsageScope("acme", ""), "2026-05-01", "").total().requests()).isEqualTo(2);
    }

    @Test
    void recordWithinFromManyThreadsNeverOverspends() throws Exception {
        final Ledger ledger = newLedger();
        final BudgetLimits limits = new BudgetLimits(100 * 7 + 6, 0); // room for exactly 100 rows of 7
        final AtomicInteger written = new AtomicInteger();
        runConcurrently(THREADS, thread -> {
            while (ledger.recordWithin(row(0, "acme", "user-" + thread, "gpt", 5, 2, 1), limits)) {
                written.incrementAndGet();
            }
        });
        assertThat(written.get()).isEqualTo(100);
        assertThat(ledger.chargedSince("acme", TODAY)).isEqualTo(new Ledger.Charged(700, 100));
    }

    @Test
    void groupsPageInKeyOrderAndNeitherSkipNorRepeatUnderInserts() {
        final Ledger ledger = newLedger();
        for (int day = -2; day <= 0; day++) {
            for (String tenant : List.of("acme", "globex")) {
                ledger.record(row(day, tenant, "u", "gpt", 1, 1, 1));
            }
        }
        final UsageScope everyone = new UsageScope("", "");
        final List<UsageSums.Row> seen = new ArrayList<>();
        UsageSums page = ledger.sums(everyone, "", "", null, 2);
        seen.addAll(page.rows());
        assertThat(page.total().requests()).isEqualTo(6);
        // Meanwhile: more usage in a group already listed, one in a group still to come, and a new group that
        // sorts before the position reached (not listed on this pass, and nothing else moves because of it).
        ledger.record(row(-2, "acme", "u", "gpt", 1, 1, 1));
        ledger.record(row(0, "globex", "u", "gpt", 1, 1, 1));
        ledger.record(row(-2, "aardvark", "u", "gpt", 1, 1, 1));
        while (page.rows().size() == 2) {
            final UsageSums.Row last = page.rows().get(1);
            page = ledger.sums(everyone, "", "", last.key(), 2);
            seen.addAll(page.rows());
            assertThat(page.total().requests()).isEqualTo(9);
        }
        assertThat(seen).extracting(UsageSums.Row::key).containsExactly(
                new UsageSums.Key("2026-05-12", "acme", "gpt"), new UsageSums.Key("2026-05-12", "globex", "gpt"),
                new UsageSums.Key("2026-05-13", "acme", "gpt"), new UsageSums.Key("2026-05-13", "globex", "gpt"),
                new UsageSums.Key(TODAY, "acme", "gpt"), new UsageSums.Key(TODAY, "globex", "gpt"));
        assertThat(seen.get(5).requests()).isEqualTo(2); // the group still to come shows the row added meanwhile
    }

    @Test
    void aPageIsBoundedByTheScopeAndDays() {
        final Ledger ledger = newLedger();
        for (int day = -3; day <= 0; day++) {
            ledger.record(row(day, "acme", "alice", "gpt", 1, 1, 1));
            ledger.record(row(day, "acme", "alice", "claude", 1, 1, 1));
            ledger.record(row(day, "globex", "gina", "gpt", 1, 1, 1));
        }
        final UsageSums page = ledger.sums(new UsageScope("acme", ""), "2026-05-12", "2026-05-13",
                                           new UsageSums.Key("2026-05-12", "acme", "claude"), 10);
        assertThat(page.rows()).extracting(UsageSums.Row::key).containsExactly(
                new UsageSums.Key("2026-05-12", "acme", "gpt"), new UsageSums.Key("2026-05-13", "acme", "claude"),
                new UsageSums.Key("2026-05-13", "acme", "gpt"));
        assertThat(page.total().requests()).isEqualTo(4);
    }

    /** Every group in range on one page. */
    static UsageSums all(Ledger ledger, UsageScope scope, String startDay, String endDay) {
        return ledger.sums(scope, startDay, endDay, null, Integer.MAX_VALUE);
    }

    /** A served request {@code dayOffset} days from {@link #NOW}. */
    static UsageRecord row(int dayOffset, String tenant, String principal, String deployment, long prompt,
                           long completion, long cost) {
        return new UsageRecord(NOW.toEpochMilli() + dayOffset * DAY_MS, tenant, principal, "default", deployment,
                               "openai", prompt, completion, cost, 12);
    }

    private static Budgets budgets(Ledger ledger, BudgetLimits acme) {
        return new Budgets(BudgetLimits.UNLIMITED, Map.of("acme", acme), 50, ledger,
                           Clock.fixed(NOW, ZoneOffset.UTC));
    }

    private static Budgets sharedBudgets(Ledger ledger, BudgetLimits acme) {
        return new Budgets(BudgetLimits.UNLIMITED, Map.of("acme", acme), 50, ledger,
                           Clock.fixed(NOW, ZoneOffset.UTC), true);
    }

    /** Runs {@code work} on {@code threads} threads started together; rethrows the first failure. */
    static void runConcurrently(int threads, ThreadWork work) throws Exception {
        final ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            final CountDownLatch go = new CountDownLatch(1);
            final List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                final int thread = t;
                done.add(pool.submit(() -> {
                    go.await();
                    work.run(thread);
                    return null;
                }));
            }
            go.countDown();
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @FunctionalInterface
    interface ThreadWork {
        void run(int thread) throws Exception;
    }
}
