package ai.sonia.router.domain;

import java.time.YearMonth;

/** A tenant's budget at one moment: its limits, what the ledger charged, and what calls in flight hold. */
public record BudgetState(String tenant, YearMonth period, BudgetLimits limits, long spentTokens,
                          long spentCostMicros, long reservedTokens, long reservedCostMicros) {

    /** Tokens still free, never below 0; 0 when tokens are unlimited. */
    public long remainingTokens() {
        return limits.tokens() == 0 ? 0 : Math.max(0, limits.tokens() - spentTokens - reservedTokens);
    }

    /** Cost still free in micro-USD, never below 0; 0 when cost is unlimited. */
    public long remainingCostMicros() {
        return limits.costMicros() == 0 ? 0
                                        : Math.max(0, limits.costMicros() - spentCostMicros - reservedCostMicros);
    }
}
