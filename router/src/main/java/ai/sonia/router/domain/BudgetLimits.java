package ai.sonia.router.domain;

/**
 * A tenant's limits for one period: total tokens (prompt + completion) and cost in micro-USD; 0 means
 * unlimited.
 */
public record BudgetLimits(long tokens, long costMicros) {

    public static final BudgetLimits UNLIMITED = new BudgetLimits(0, 0);

    public BudgetLimits {
        if (tokens < 0 || costMicros < 0) {
            throw new IllegalArgumentException("budget limits must be >= 0 (0 = unlimited): tokens=" + tokens
                                               + ", costMicros=" + costMicros);
        }
    }

    /** Whether any limit applies. */
    public boolean limited() {
        return tokens > 0 || costMicros > 0;
    }
}
