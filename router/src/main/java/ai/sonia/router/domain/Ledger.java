package ai.sonia.router.domain;

/** Where served requests are accounted. */
public interface Ledger {

    /** Records one served request durably before the caller gets its answer. */
    void record(UsageRecord usage);

    /** Tokens and cost charged to {@code tenant} on days from {@code fromDay} ("YYYY-MM-DD", UTC) on. */
    Charged chargedSince(String tenant, String fromDay);

    /** What a tenant was charged. */
    record Charged(long tokens, long costMicros) {}
}
