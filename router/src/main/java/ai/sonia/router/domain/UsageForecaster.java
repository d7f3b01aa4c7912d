package ai.sonia.router.domain;

import java.time.LocalDate;
import java.util.Comparator;
import java.util.List;

/**
 * Projects usage with the "linear-daily-mean" method: the mean per day over the last 7 UTC days
 * (today included, counting only from the first day that has usage), times the horizon. The confidence
 * is the share of those 7 days that back the mean; with no history the projection is zero with
 * confidence 0. Each configured deployment is then priced for the projected tokens, cheapest first.
 */
public final class UsageForecaster {

    /** The method's name, as the response reports it. */
    public static final String METHOD = "linear-daily-mean";
    /** How many days of history the mean looks at. */
    public static final int WINDOW_DAYS = 7;

    /** A projection over the horizon. */
    public record Forecast(long promptTokens, long completionTokens, long costMicros, int horizonDays,
                           int basisDays, double confidence, List<ModelCost> modelCosts) {}

    /** What the projected tokens would cost on one deployment. */
    public record ModelCost(String deployment, long costMicros) {}

    /** The first day of the window that ends on {@code today}. */
    public static LocalDate windowStart(LocalDate today) {
        return today.minusDays(WINDOW_DAYS - 1);
    }

    public Forecast forecast(List<DayTotal> history, LocalDate today, int horizonDays, List<Deployment> deployments) {
        final LocalDate start = windowStart(today);
        final List<DayTotal> window = history.stream()
                                             .filter(d -> !d.day().isBefore(start) && !d.day().isAfter(today))
                                             .toList();
        if (window.isEmpty()) {
            return new Forecast(0, 0, 0, horizonDays, 0, 0,
                                deployments.stream().map(d -> new ModelCost(d.name(), 0)).toList());
        }
        final LocalDate first = window.stream().map(DayTotal::day).min(Comparator.naturalOrder()).orElseThrow();
        final int basis = (int) (today.toEpochDay() - first.toEpochDay()) + 1;
        final long prompt = project(window.stream().mapToLong(DayTotal::promptTokens).sum(), horizonDays, basis);
        final long completion = project(window.stream().mapToLong(DayTotal::completionTokens).sum(), horizonDays, basis);
        final long cost = project(window.stream().mapToLong(DayTotal::costMicros).sum(), horizonDays, basis);
        final List<ModelCost> costs = deployments.stream()
                                                 .map(d -> new ModelCost(d.name(), d.costMicros(prompt, completion)))
                                                 .sorted(Comparator.comparingLong(ModelCost::costMicros)
                                                                   .thenComparing(ModelCost::deployment))
                                                 .toList();
        return new Forecast(prompt, completion, cost, horizonDays, basis, Math.min(1.0, basis / (double) WINDOW_DAYS),
                            costs);
    }

    private static long project(long sum, int horizonDays, int basisDays) {
        return Math.round(sum * (double) horizonDays / basisDays);
    }
}
