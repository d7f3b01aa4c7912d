package ai.sonia.router.domain;

/** Which ledger rows a query reads: one tenant's or every tenant's (empty), one principal's or all (empty). */
public record UsageScope(String tenant, String principal) {}
