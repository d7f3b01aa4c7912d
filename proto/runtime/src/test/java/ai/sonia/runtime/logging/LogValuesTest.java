package ai.sonia.runtime.logging;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Locale;

import org.junit.jupiter.api.Test;

class LogValuesTest {

    @Test
    void millisWritesWhatPercentPoint3fWroteInAnEnglishLocale() {
        for (long nanos : new long[] { 0, 1, 499, 500, 1_499, 1_500, 999_999, 1_234_567, 12_345_678_901L }) {
            assertThat(LogValues.millis(nanos)).as("%d ns", nanos)
                                               .isEqualTo(String.format(Locale.ROOT, "%.3f", nanos / 1e6));
        }
    }
}
