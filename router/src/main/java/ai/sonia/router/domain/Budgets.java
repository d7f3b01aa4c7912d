package ai.sonia.router.domain;

import static java.util.Objects.requireNonNull;

import java.time.Clock;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import ai.sonia.common.v1.ErrorCode;
import ai.sonia.runtime.errors.DomainException;

/**
 * Token and cost budgets per tenant and calendar month (UTC), enforced before a call and settled after it.
 * A call first reserves its worst case; it is admitted only if spent + reserved by calls in flight + its own
 * reservation fits every limit. When it is served, its reservation is replaced by what its ledger row charges
 * and the row is written; when it fails, the reservation is released. Each tenant has one lock: admission
 * and the settlement happen under it, so the books are exact under any concurrency; the row is written after
 * the lock (rows of one tenant are committed together), and a row is only ever stamped with a month its
 * tenant's book has already moved to, so the spent amount loaded from the ledger (at first use and each new
 * month) never counts a row twice or misses one.
 *
 * <p>On a ledger shared by several replicas ({@code shared}: PostgreSQL), the books of one JVM cannot see the
 * other replicas' calls, so a call is admitted against what the ledger holds at that moment (read again at
 * every admission) plus this replica's calls in flight, and settled by {@link Ledger#recordWithin}: the row is
 * written only if its tenant's month stays within the limits, checked and charged atomically against every
 * replica. A call that another replica's concurrent calls left no room for is refused at settlement with the
 * same budget error as at admission, and its answer is not given: the month's charges never pass a limit.
 */
public final class Budgets {

    private final BudgetLimits defaults;
    private final Map<String, BudgetLimits> tenants;
    private final int defaultOutputTokens;
    private final Ledger ledger;
    private final Clock clock;
    private final boolean shared;
    private final Map<String, Book> books = new ConcurrentHashMap<>();

    /**
     * @param defaults the limits of tenants not listed
     * @param tenants limits by tenant
     * @param defaultOutputTokens what a call without {@code max_tokens} reserves for its answer (and is capped
     *                            at) when its tenant has a limit
     */
    public Budgets(BudgetLimits defaults, Map<String, BudgetLimits> tenants, int defaultOutputTokens, Ledger ledger,
                   Clock clock) {
        this(defaults, tenants, defaultOutputTokens, ledger, clock, false);
    }

    /**
     * @param shared whether other replicas write the same ledger: admission then reads it each time and
     *               settlement goes through {@link Ledger#recordWithin}
     */
    public Budgets(BudgetLimits defaults, Map<String, BudgetLimits> tenants, int defaultOutputTokens, Ledger ledger,
                   Clock clock, boolean shared) {
        if (defaultOutputTokens <= 0) {
            throw new IllegalArgumentException("defaultOutputTokens: " + defaultOutputTokens + " (expected: > 0)");
        }
        this.defaults = requireNonNull(defaults, "defaults");
        this.tenants = Map.copyOf(tenants);
        this.defaultOutputTokens = defaultOutputTokens;
        this.ledger = requireNonNull(ledger, "ledger");
        this.clock = requireNonNull(clock, "clock");
        this.shared = shared;
    }

    public BudgetLimits limitsOf(String tenant) {
        return tenants.getOrDefault(tenant, defaults);
    }

    /** The answer tokens a call reserves: its own {@code max_tokens}, or the default. */
    public int outputTokensFor(ChatCall call) {
        return call.maxTokens() > 0 ? call.maxTokens() : defaultOutputTokens;
    }

    /**
     * Reserves {@code tokens} and {@code costMicros} for a call of {@code tenant}, or refuses it with
     * RATE_LIMITED naming the budget that would be passed.
     */
    public Reservation reserve(String tenant, long tokens, long costMicros) {
        final BudgetLimits limits = limitsOf(tenant);
        final Book book = bookOf(tenant);
        synchronized (book) {
            if (!shared || limits.limited()) { // a shared ledger is read only for a tenant with limits
                book.rollTo(monthOf(clock.millis()));
            }
            refuseIfOver(tenant, book, "token", limits.tokens(), book.spentTokens, book.reservedTokens, tokens);
            refuseIfOver(tenant, book, "cost", limits.costMicros(), book.spentCost, book.reservedCost, costMicros);
            book.reservedTokens += tokens;
            book.reservedCost += costMicros;
            final Reservation reservation = new Reservation(tenant, tokens, costMicros, limits.limited());
            book.held.add(reservation);
            return reservation;
        }
    }

    /**
     * Writes the served call's ledger row and replaces its reservation with what the row charges. A provider
     * that reports more than was reserved (its own tokenizer, a template we under-counted) is charged what it
     * reported: the ledger stays exact even if that takes the tenant past its limit, and the next call is
     * refused. The books are charged under the tenant's lock, and the row is written after it, so that the
     * tenant's concurrent calls share the ledger's group commit; this returns only once the row is committed.
     * When it cannot be written the charge is taken back and the exception thrown. The reservation is given
     * back either way.
     */
    public void settle(Reservation reservation, UsageRecord usage) {
        if (shared) {
            settleShared(reservation, usage);
            return;
        }
        final Book book = bookOf(reservation.tenant());
        final YearMonth month = monthOf(usage.epochMillis());
        final boolean charged;
        synchronized (book) {
            try {
                book.rollTo(month);
                charged = month.equals(book.period);
                if (charged) {
                    book.spentTokens += usage.promptTokens() + usage.completionTokens();
                    book.spentCost += usage.costMicros();
                }
            } finally {
                // Released even when the ledger cannot be read: the call is over either way.
                book.release(reservation);
            }
        }
        try {
            ledger.record(usage);
        } catch (RuntimeException e) {
            if (charged) {
                synchronized (book) {
                    if (month.equals(book.period)) {
                        book.spentTokens -= usage.promptTokens() + usage.completionTokens();
                        book.spentCost -= usage.costMicros();
                    }
                }
            }
            throw e;
        }
    }

    /**
     * Gives the reservation back and writes the row only if the tenant's month, as every replica has charged
     * it, stays within the limits; otherwise refuses the call with the budget it would pass.
     */
    private void settleShared(Reservation reservation, UsageRecord usage) {
        final Book book = bookOf(reservation.tenant());
        final BudgetLimits limits = limitsOf(usage.tenant());
        final boolean recorded;
        try {
            if (limits.limited()) {
                recorded = ledger.recordWithin(usage, limits);
            } else { // nothing to check: the row joins the ledger's group commit
                ledger.record(usage);
                recorded = true;
            }
        } finally {
            // Held until the row is in: this replica's next admission reads the row or the reservation.
            synchronized (book) {
                book.release(reservation);
            }
        }
        if (recorded) {
            return;
        }
        final YearMonth month = monthOf(usage.epochMillis());
        final Ledger.Charged charged = ledger.chargedSince(usage.tenant(), month.atDay(1).toString());
        final long tokens = usage.promptTokens() + usage.completionTokens();
        if (limits.costMicros() == 0 || limits.tokens() != 0 && charged.tokens() + tokens > limits.tokens()) {
            throw refusal(usage.tenant(), month, "token", limits.tokens(), charged.tokens(), 0, tokens);
        }
        throw refusal(usage.tenant(), month, "cost", limits.costMicros(), charged.costMicros(), 0, usage.costMicros());
    }

    /** Writes the ledger row of a call served without a provider (a cached answer), which reserved nothing. */
    public void record(UsageRecord usage) {
        settle(new Reservation(usage.tenant(), 0, 0, false), usage);
    }

    /** Gives back the reservation of a call that was not served; a reservation already given back stays so. */
    public void release(Reservation reservation) {
        final Book book = bookOf(reservation.tenant());
        synchronized (book) {
            book.release(reservation);
        }
    }

    /** The tenant's budget now. */
    public BudgetState state(String tenant) {
        final Book book = bookOf(tenant);
        synchronized (book) {
            book.rollTo(monthOf(clock.millis()));
            return new BudgetState(tenant, book.period, limitsOf(tenant), book.spentTokens, book.spentCost,
                                   book.reservedTokens, book.reservedCost);
        }
    }

    private Book bookOf(String tenant) {
        return books.computeIfAbsent(tenant, Book::new);
    }

    private static void refuseIfOver(String tenant, Book book, String budget, long limit, long spent, long reserved,
                                     long wanted) {
        if (limit == 0 || spent + reserved + wanted <= limit) {
            return;
        }
        throw refusal(tenant, book.period, budget, limit, spent, reserved, wanted);
    }

    private static DomainException refusal(String tenant, YearMonth period, String budget, long limit, long spent,
                                           long reserved, long wanted) {
        final Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("tenant", tenant);
        metadata.put("budget", budget);
        metadata.put("period", period.toString());
        metadata.put("limit", String.valueOf(limit));
        metadata.put("spent", String.valueOf(spent));
        metadata.put("reserved", String.valueOf(reserved));
        metadata.put("requested", String.valueOf(wanted));
        final String unit = "cost".equals(budget) ? " micro-USD" : " tokens";
        return DomainException.of(ErrorCode.ERROR_CODE_RATE_LIMITED,
                                  "the " + budget + " budget of tenant " + tenant + " for " + period + " ("
                                  + limit + unit + ") cannot cover this call: " + spent + " spent, " + reserved
                                  + " reserved by calls in flight, " + wanted + " needed",
                                  metadata);
    }

    private static YearMonth monthOf(long epochMillis) {
        return YearMonth.from(Instant.ofEpochMilli(epochMillis).atZone(ZoneOffset.UTC));
    }

    /** What a call holds until it is settled or released (once, however often either is called). */
    public record Reservation(String tenant, long tokens, long costMicros, boolean limited) {}

    /** One tenant's books; guarded by its own monitor. */
    private final class Book {
        final String tenant;
        YearMonth period;
        long spentTokens;
        long spentCost;
        long reservedTokens;
        long reservedCost;
        /** The reservations not yet given back, by identity. */
        final Set<Reservation> held = Collections.newSetFromMap(new IdentityHashMap<>());

        Book(String tenant) {
            this.tenant = tenant;
        }

        /**
         * Moves to {@code month} when it is later than the current one (on a shared ledger, always), reading what
         * the ledger already holds for it. Reservations stay: calls in flight settle into the month they end in.
         */
        void rollTo(YearMonth month) {
            // A shared ledger is read every time: the other replicas charge it too.
            if (!shared && period != null && !month.isAfter(period)) {
                return;
            }
            final Ledger.Charged charged = ledger.chargedSince(tenant, month.atDay(1).toString());
            period = month;
            spentTokens = charged.tokens();
            spentCost = charged.costMicros();
        }

        void release(Reservation r) {
            if (held.remove(r)) {
                reservedTokens -= r.tokens();
                reservedCost -= r.costMicros();
            }
        }
    }
}
