package ai.sonia.memory.store;

import java.sql.SQLException;

/** A database error that no caller can fix: it becomes INTERNAL, with the cause in the server log. */
public final class StoreException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    StoreException(SQLException cause) {
        super(cause.getMessage(), cause);
    }
}
