package ai.sonia.runtime.store;

/**
 * A store that cannot read or write its database now (disk I/O error, disk full, read-only file system):
 * the call fails with UNAVAILABLE naming the store and the reason, and may be retried once the disk is
 * back. The service's {@code /readyz} says the same until a write succeeds again.
 */
public final class StoreUnavailableException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final String service;
    private final String store;
    private final String reason;

    StoreUnavailableException(String service, String store, String reason, Throwable cause) {
        super(store + " cannot be written now: " + reason, cause);
        this.service = service;
        this.store = store;
        this.reason = reason;
    }

    /** The service whose data directory holds the store ("memory"). */
    public String service() {
        return service;
    }

    /** The database file's name ("memory.db"). */
    public String store() {
        return store;
    }

    /** SQLite's short reason ("disk I/O error"). */
    public String reason() {
        return reason;
    }
}
