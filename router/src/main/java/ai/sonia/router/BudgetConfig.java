package ai.sonia.router;

import java.util.LinkedHashMap;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

import ai.sonia.router.domain.BudgetLimits;

/**
 * Section {@code services.router.budgets}: token and cost limits per tenant and calendar month (UTC); 0 or
 * absent means unlimited, which is the default for everyone.
 *
 * <pre>{@code
 * "budgets": {"default": {"tokens": 0, "costMicros": 0},
 *             "tenants": {"acme": {"tokens": 100000, "costMicros": 5000000}},
 *             "defaultOutputTokens": 4096}
 * }</pre>
 * {@code defaultOutputTokens} is what a call without {@code max_tokens} reserves for its answer, and is
 * capped at, when its tenant has a limit.
 */
record BudgetConfig(BudgetLimits defaults, Map<String, BudgetLimits> tenants, int defaultOutputTokens) {

    static final int DEFAULT_OUTPUT_TOKENS = 4096;

    static BudgetConfig from(JsonNode section) {
        final Map<String, BudgetLimits> tenants = new LinkedHashMap<>();
        section.path("tenants").fields().forEachRemaining(e -> tenants.put(e.getKey(),
                                                                           limits("tenants." + e.getKey(), e.getValue())));
        final int output = section.path("defaultOutputTokens").asInt(DEFAULT_OUTPUT_TOKENS);
        if (output <= 0) {
            throw new IllegalArgumentException("services.router.budgets.defaultOutputTokens: " + output
                                               + " (expected: > 0)");
        }
        return new BudgetConfig(limits("default", section.path("default")), Map.copyOf(tenants), output);
    }

    private static BudgetLimits limits(String where, JsonNode node) {
        final long tokens = node.path("tokens").asLong(0);
        final long cost = node.path("costMicros").asLong(0);
        if (tokens < 0 || cost < 0) {
            throw new IllegalArgumentException("services.router.budgets." + where + ": tokens " + tokens
                                               + ", costMicros " + cost + " (expected: >= 0, 0 = unlimited)");
        }
        return new BudgetLimits(tokens, cost);
    }
}
