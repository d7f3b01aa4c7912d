package ai.sonia.router;

import java.util.LinkedHashMap;
import java.util.Map;

import com.fasterxml.jackson.annotation.JsonProperty;

import ai.sonia.router.domain.BudgetLimits;
import ai.sonia.runtime.ConfigKey;

/**
 * Section {@code services.router.budgets}: token and cost limits per tenant and calendar month (UTC); 0 or
 * absent means unlimited, which is the default for everyone. {@code defaultOutputTokens} is what a call without {@code max_tokens} reserves for its answer, and is
 * capped at, when its tenant has a limit.
 */
record BudgetConfig(
        @JsonProperty("default") @ConfigKey Limits defaultLimits,
        @JsonProperty("tenants") @ConfigKey("Per tenant, by its name.") Map<String, Limits> tenantLimits,
        @ConfigKey(value = "What a call without max_tokens reserves for its answer.", def = "4096")
        int defaultOutputTokens) {

    @ConfigKey("Monthly limits (UTC calendar month); 0 is unlimited.")
    record Limits(@ConfigKey(value = "Tokens a month.", def = "0") long tokens,
                  @ConfigKey(value = "Cost a month, in millionths of a dollar.", def = "0") long costMicros) {}

    BudgetConfig {
        if (defaultOutputTokens <= 0) {
            throw new IllegalArgumentException("services.router.budgets.defaultOutputTokens: " + defaultOutputTokens
                                               + " (expected: > 0)");
        }
        limits("default", defaultLimits);
        tenantLimits = tenantLimits == null ? Map.of() : tenantLimits;
        tenantLimits.forEach((tenant, limits) -> limits("tenants." + tenant, limits));
    }

    BudgetLimits defaults() {
        return limits("default", defaultLimits);
    }

    Map<String, BudgetLimits> tenants() {
        final Map<String, BudgetLimits> tenants = new LinkedHashMap<>();
        tenantLimits.forEach((tenant, limits) -> tenants.put(tenant, limits("tenants." + tenant, limits)));
        return Map.copyOf(tenants);
    }

    private static BudgetLimits limits(String where, Limits limits) {
        if (limits.tokens() < 0 || limits.costMicros() < 0) {
            throw new IllegalArgumentException("services.router.budgets." + where + ": tokens " + limits.tokens()
                                               + ", costMicros " + limits.costMicros()
                                               + " (expected: >= 0, 0 = unlimited)");
        }
        return new BudgetLimits(limits.tokens(), limits.costMicros());
    }
}
