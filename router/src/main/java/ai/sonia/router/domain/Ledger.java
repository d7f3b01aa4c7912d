package ai.sonia.router.domain;

/** Where served requests are accounted. */
public interface Ledger {

    /** Records one served request durably before the caller gets its answer. */
    void record(UsageRecord usage);
}
