package ai.sonia.memory.domain;

/**
 * The part of the ledger's statistics and audit log a caller sees.
 *
 * @param tenant one tenant, or empty for every tenant
 * @param user the memories of one user of the tenant, or empty for every user's
 * @param principal the audit records written by this principal, or empty for all of the tenant's
 */
public record LedgerView(String tenant, String user, String principal) {}
