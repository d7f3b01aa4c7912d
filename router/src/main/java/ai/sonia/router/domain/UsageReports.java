package ai.sonia.router.domain;

import java.time.Clock;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.List;

import ai.sonia.runtime.errors.DomainException;
import ai.sonia.runtime.paging.PageTokens;

/** The ledger as callers read it: usage sums by tenant, deployment and day, and the spend forecast. */
public final class UsageReports {

    static final int DEFAULT_PAGE_SIZE = 1000;
    static final int MAX_PAGE_SIZE = 1000;
    static final int DEFAULT_HORIZON_DAYS = 30;
    static final int MAX_HORIZON_DAYS = 366;
    static final int DEFAULT_WINDOW_HOURS = 168;
    static final int MAX_WINDOW_HOURS = 90 * 24;
    private static final long HOUR_MS = 3_600_000L;

    private final Ledger ledger;
    private final ModelCatalog catalog;
    private final Clock clock;
    private final UsageForecaster forecaster = new UsageForecaster();

    public UsageReports(Ledger ledger, ModelCatalog catalog, Clock clock) {
        this.ledger = ledger;
        this.catalog = catalog;
        this.clock = clock;
    }

    /** One page of usage groups with the total of them all, and the token of the next page (empty on the last). */
    public record Page(UsageSums sums, String nextPageToken) {}

    /**
     * The groups over the days from {@code startDay} to {@code endDay} ("YYYY-MM-DD"; empty for no bound), at
     * most {@code pageSize} (0 for the default) from {@code pageToken} on.
     */
    public Page sums(UsageScope scope, String startDay, String endDay, int pageSize, String pageToken) {
        final String start = day("start_day", startDay);
        final String end = day("end_day", endDay);
        if (!start.isEmpty() && !end.isEmpty() && start.compareTo(end) > 0) {
            throw DomainException.invalidArgument("end_day", end + " is before start_day " + start);
        }
        final int size = PageTokens.pageSize(pageSize, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
        final String query = String.join("\n", "GetUsage", scope.tenant(), scope.principal(), start, end);
        final UsageSums.Key after = PageTokens.after(pageToken, query).map(parts -> {
            final UsageSums.Key key = UsageSums.Key.of(parts);
            if (key == null) {
                throw DomainException.invalidArgument("page_token", "not a page token of this list");
            }
            return key;
        }).orElse(null);
        final UsageSums sums = ledger.sums(scope, start, end, after, size + 1);
        if (sums.rows().size() <= size) {
            return new Page(sums, "");
        }
        final List<UsageSums.Row> rows = sums.rows().subList(0, size);
        return new Page(new UsageSums(rows, sums.total()), PageTokens.next(query, rows.get(size - 1).key().parts()));
    }

    /**
     * The projection of the scope's usage over the last {@code windowHours} (0 for the default) onto the
     * horizon: {@code horizonHours} when set, else {@code horizonDays} (0 for the default).
     */
    public UsageForecaster.Forecast forecast(UsageScope scope, int windowHours, int horizonDays, int horizonHours) {
        final int window = windowHours == 0 ? DEFAULT_WINDOW_HOURS : windowHours;
        if (window < 0 || window > MAX_WINDOW_HOURS) {
            throw DomainException.invalidArgument("window_hours", window + " (expected: 0.." + MAX_WINDOW_HOURS + ")");
        }
        if (horizonDays < 0 || horizonDays > MAX_HORIZON_DAYS) {
            throw DomainException.invalidArgument("horizon_days",
                                                  horizonDays + " (expected: 0.." + MAX_HORIZON_DAYS + ")");
        }
        if (horizonHours < 0 || horizonHours > MAX_HORIZON_DAYS * 24) {
            throw DomainException.invalidArgument("horizon_hours",
                                                  horizonHours + " (expected: 0.." + MAX_HORIZON_DAYS * 24 + ")");
        }
        if (horizonHours > 0 && horizonDays > 0) {
            throw DomainException.invalidArgument("horizon_hours", "set either horizon_hours or horizon_days");
        }
        final int horizon = horizonHours > 0 ? horizonHours
                : 24 * (horizonDays == 0 ? DEFAULT_HORIZON_DAYS : horizonDays);
        final long nowHour = Math.floorDiv(clock.millis(), HOUR_MS);
        final long fromHour = nowHour - window + 1;
        return forecaster.forecast(ledger.hourlyTotals(scope, fromHour), nowHour, window, horizon,
                                   catalog.deployments());
    }

    private static String day(String field, String value) {
        if (value.isEmpty()) {
            return value;
        }
        try {
            return LocalDate.parse(value).toString();
        } catch (DateTimeParseException e) {
            throw DomainException.invalidArgument(field, value + " (expected: YYYY-MM-DD)");
        }
    }
}
