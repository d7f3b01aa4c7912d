package ai.sonia.router.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

/** The hourly forecast: the window it is fitted on, the projection, and a confidence honest about the history. */
class UsageForecasterTest {

    private static final long NOW = 500_000; // hours since the epoch
    private static final List<Deployment> PRICED = List.of(
            new Deployment("gpt", "openai", "gpt-test", "http://127.0.0.1:1", null, Duration.ofSeconds(1),
                           1_000_000, 2_000_000));
    private final UsageForecaster forecaster = new UsageForecaster();

    /** {@code hours} hours of usage, ending now, of {@code tokens} prompt tokens each (and twice as many micro-USD). */
    private static List<HourTotal> steady(int hours, long tokens) {
        final List<HourTotal> history = new ArrayList<>();
        for (int i = hours - 1; i >= 0; i--) {
            history.add(new HourTotal(NOW - i, tokens, 0, tokens * 2));
        }
        return history;
    }

    @Test
    void oneDayOfSteadyUseInAWeekWindowIsLowConfidenceAndSaysSo() {
        final UsageForecaster.Forecast f = forecaster.forecast(steady(24, 100), NOW, 168, 24, PRICED);
        assertThat(f.basis().points()).isEqualTo(24);
        assertThat(f.basis().days()).isBetween(1, 2);
        assertThat(f.confidence()).isCloseTo(24.0 / 168, within(1e-9));
        assertThat(f.basis().summary()).isEqualTo("24 hourly points (1 day) of a 168-hour window: low confidence");
        assertThat(f.promptTokens()).isEqualTo(2400);
        assertThat(f.costMicros()).isEqualTo(4800);
        assertThat(f.cost()).isEqualTo(0.0048);
        assertThat(f.modelCosts()).containsExactly(new UsageForecaster.ModelCost("gpt", 2400));
    }

    @Test
    void aFullWindowOfSteadyUseIsFullConfidence() {
        final UsageForecaster.Forecast f = forecaster.forecast(steady(168, 100), NOW, 168, 24, PRICED);
        assertThat(f.confidence()).isEqualTo(1.0);
        assertThat(f.basis().stddevTokensPerHour()).isZero();
        assertThat(f.basis().summary()).endsWith("high confidence");
    }

    @Test
    void varianceLowersTheConfidenceOfTheSameVolume() {
        // The same 2,400 tokens over 24 hours: all in the first hour rather than 100 an hour.
        final List<HourTotal> spike = List.of(new HourTotal(NOW - 23, 2400, 0, 0));
        final UsageForecaster.Forecast f = forecaster.forecast(spike, NOW, 168, 24, PRICED);
        assertThat(f.promptTokens()).isEqualTo(2400);
        assertThat(f.basis().points()).isEqualTo(24);
        assertThat(f.basis().hoursWithUsage()).isEqualTo(1);
        final double s = f.basis().stddevTokensPerHour();
        assertThat(s).isCloseTo(Math.sqrt((2300.0 * 2300 + 23 * 100.0 * 100) / 23), within(1e-9));
        assertThat(f.confidence()).isCloseTo(24.0 / 168 / (1 + s / (100 * Math.sqrt(24))), within(1e-9))
                                  .isLessThan(24.0 / 168 / 1.5);
    }

    @Test
    void fewerThanTwoPointsAreNoConfidenceAndNoHistoryIsNothing() {
        final UsageForecaster.Forecast one = forecaster.forecast(steady(1, 100), NOW, 168, 48, PRICED);
        assertThat(one.confidence()).isZero();
        assertThat(one.promptTokens()).isEqualTo(4800);
        assertThat(one.basis().summary())
                .isEqualTo("1 hourly point (under a day) of a 168-hour window: too little history for any confidence");
        final UsageForecaster.Forecast none = forecaster.forecast(List.of(), NOW, 168, 48, PRICED);
        assertThat(none.confidence()).isZero();
        assertThat(none.promptTokens()).isZero();
        assertThat(none.basis().points()).isZero();
    }

    @Test
    void theWindowIsHonouredHistoryBeforeItIsLeftOut() {
        final List<HourTotal> history = new ArrayList<>(List.of(new HourTotal(NOW - 100, 1_000_000, 0, 0)));
        history.addAll(steady(12, 10));
        final UsageForecaster.Forecast f = forecaster.forecast(history, NOW, 24, 24, PRICED);
        assertThat(f.basis().windowHours()).isEqualTo(24);
        assertThat(f.basis().points()).isEqualTo(12);
        assertThat(f.basis().tokens()).isEqualTo(120);
        assertThat(f.promptTokens()).isEqualTo(240);
        assertThat(f.confidence()).isCloseTo(12.0 / 24, within(1e-9));
        assertThat(forecaster.forecast(history, NOW, 168, 24, PRICED).basis().tokens()).isEqualTo(1_000_120);
    }
}
