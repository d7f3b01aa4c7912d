package ai.sonia.router.domain;

/** One ledger row: a served request, who it is charged to, and what it cost. */
public record UsageRecord(long epochMillis, String tenant, String principal, String alias, String deployment,
                          String provider, long promptTokens, long completionTokens, long costMicros,
                          long latencyMs) {}
