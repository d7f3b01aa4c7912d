package ai.sonia.pipecat.store;

/** The session store failed (disk, corruption); the caller answers INTERNAL and loses no data. */
public final class StoreException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    StoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
