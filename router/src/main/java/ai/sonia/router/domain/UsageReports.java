package ai.sonia.router.domain;

import java.time.Clock;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import ai.sonia.runtime.errors.DomainException;

/** The ledger as callers read it: usage sums by tenant, deployment and day, and the spend forecast. */
public final class UsageReports {

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

    /** The sums over the days from {@code startDay} to {@code endDay} ("YYYY-MM-DD"; empty for no bound). */
    public UsageSums sums(UsageScope scope, String startDay, String endDay) {
        final String start = day("start_day", startDay);
        final String end = day("end_day", endDay);
        if (!start.isEmpty() && !end.isEmpty() && start.compareTo(end) > 0) {
            throw DomainException.invalidArgument("end_day", end + " is before start_day " + start);
        }
        return ledger.sums(scope, start, end);
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
