package ai.sonia.runtime.logging;

import java.math.BigDecimal;

/** Values for log lines, made without {@link java.util.Formatter} (a per-line cost on every request). */
public final class LogValues {

    private LogValues() {}

    /** {@code nanos} as milliseconds with three decimals, rounded half up: what {@code "%.3f"} wrote, in any locale. */
    public static String millis(long nanos) {
        return BigDecimal.valueOf(Math.floorDiv(nanos + 500, 1000), 3).toPlainString();
    }
}
