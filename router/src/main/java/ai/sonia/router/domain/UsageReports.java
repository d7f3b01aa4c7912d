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

    /** The projection over {@code horizonDays} (0 for the default) of the scope's recent usage. */
    public UsageForecaster.Forecast forecast(UsageScope scope, int horizonDays) {
        final int horizon = horizonDays == 0 ? DEFAULT_HORIZON_DAYS : horizonDays;
        if (horizon < 0 || horizon > MAX_HORIZON_DAYS) {
            throw DomainException.invalidArgument("horizon_days", horizon + " (expected: 0.." + MAX_HORIZON_DAYS + ")");
        }
        final LocalDate today = LocalDate.now(clock);
        return forecaster.forecast(ledger.dailyTotals(scope, UsageForecaster.windowStart(today).toString()), today,
                                   horizon, catalog.deployments());
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
