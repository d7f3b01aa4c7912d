package ai.sonia.router.domain;

import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * Projects usage with the "linear-hourly-mean" method: the ledger's usage per UTC hour over the window, from the
 * first hour with usage to the current hour (hours without usage count as zero), averaged and multiplied by the
 * horizon in hours. The confidence is 0 below 2 points; otherwise {@code (n / W) / (1 + s / (m * sqrt(n)))},
 * with n points, a window of W hours, and m and s the mean and sample standard deviation of the tokens per
 * point: it grows with the history the window holds and shrinks as the hourly use varies (the proto's
 * ForecastUsageResponse says the same to clients). Each configured deployment is then priced for the projected
 * tokens, cheapest first.
 */
public final class UsageForecaster {

    /** The method's name, as the response reports it. */
    public static final String METHOD = "linear-hourly-mean";
    /** The currency of every price and cost in the ledger (costs are integers in its millionths). */
    public static final String CURRENCY = "USD";

    /** A projection over the horizon, and what it was fitted on. */
    public record Forecast(long promptTokens, long completionTokens, long costMicros, int horizonHours,
                           double confidence, Basis basis, List<ModelCost> modelCosts) {

        /** The projected cost in currency units. */
        public double cost() {
            return costMicros / 1_000_000.0;
        }
    }

    /** The history a forecast was fitted on; see the proto's ForecastBasis. */
    public record Basis(int windowHours, int points, int hoursWithUsage, int days, long tokens, long costMicros,
                        double meanTokensPerHour, double stddevTokensPerHour, String summary) {}

    /** What the projected tokens would cost on one deployment. */
    public record ModelCost(String deployment, long costMicros) {}

    /**
     * The forecast over {@code horizonHours} of the hours in {@code history} that fall in the {@code windowHours}
     * ending with the hour {@code nowHour} (hours since the epoch).
     */
    public Forecast forecast(List<HourTotal> history, long nowHour, int windowHours, int horizonHours,
                             List<Deployment> deployments) {
        final long start = nowHour - windowHours + 1;
        final List<HourTotal> window = history.stream().filter(h -> h.hour() >= start && h.hour() <= nowHour).toList();
        if (window.isEmpty()) {
            final Basis none = new Basis(windowHours, 0, 0, 0, 0, 0, 0, 0,
                                         "no usage in the " + windowHours + "-hour window: nothing to project");
            return new Forecast(0, 0, 0, horizonHours, 0, none,
                                deployments.stream().map(d -> new ModelCost(d.name(), 0)).toList());
        }
        final long first = window.stream().mapToLong(HourTotal::hour).min().orElseThrow();
        final int n = (int) (nowHour - first + 1);
        final long promptSum = window.stream().mapToLong(HourTotal::promptTokens).sum();
        final long completionSum = window.stream().mapToLong(HourTotal::completionTokens).sum();
        final long costSum = window.stream().mapToLong(HourTotal::costMicros).sum();
        final double mean = (promptSum + completionSum) / (double) n;
        final double stddev = n < 2 ? 0 : Math.sqrt(squaredDeviations(window, n, mean) / (n - 1));
        final double confidence = confidence(n, windowHours, mean, stddev);
        final long prompt = project(promptSum, horizonHours, n);
        final long completion = project(completionSum, horizonHours, n);
        final List<ModelCost> costs = deployments.stream()
                                                 .map(d -> new ModelCost(d.name(), d.costMicros(prompt, completion)))
                                                 .sorted(Comparator.comparingLong(ModelCost::costMicros)
                                                                   .thenComparing(ModelCost::deployment))
                                                 .toList();
        final int days = (int) (Math.floorDiv(nowHour, 24) - Math.floorDiv(first, 24)) + 1;
        final Basis basis = new Basis(windowHours, n, window.size(), days, promptSum + completionSum, costSum, mean,
                                      stddev, summary(n, windowHours, confidence));
        return new Forecast(prompt, completion, project(costSum, horizonHours, n), horizonHours, confidence, basis,
                            costs);
    }

    /** Sum of the squared deviations from the mean over n points, the hours absent from the window being zeros. */
    private static double squaredDeviations(List<HourTotal> window, int n, double mean) {
        double sum = (n - window.size()) * mean * mean;
        for (HourTotal h : window) {
            final double d = h.tokens() - mean;
            sum += d * d;
        }
        return sum;
    }

    static double confidence(int points, int windowHours, double mean, double stddev) {
        if (points < 2) {
            return 0;
        }
        final double relativeError = mean == 0 ? 0 : stddev / (mean * Math.sqrt(points));
        return Math.min(1.0, points / (double) windowHours) / (1 + relativeError);
    }

    private static String summary(int points, int windowHours, double confidence) {
        final String span = points < 24 ? "under a day"
                : points % 24 == 0 ? points / 24 + (points == 24 ? " day" : " days")
                : String.format(Locale.ROOT, "%.1f days", points / 24.0);
        final String level = points < 2 ? "too little history for any"
                : confidence < 1 / 3.0 ? "low" : confidence < 2 / 3.0 ? "medium" : "high";
        return points + (points == 1 ? " hourly point (" : " hourly points (") + span + ") of a " + windowHours
               + "-hour window: " + level + " confidence";
    }

    private static long project(long sum, int horizonHours, int points) {
        return Math.round(sum * (double) horizonHours / points);
    }
}
