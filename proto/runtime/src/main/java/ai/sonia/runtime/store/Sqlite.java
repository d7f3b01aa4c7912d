package ai.sonia.runtime.store;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Locale;

import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteConnection;
import org.sqlite.SQLiteConnectionConfig;

import ai.sonia.runtime.OwnerOnlyFiles;

/**
 * The one place where Sonia opens SQLite files, so every store gets the same settings:
 * <ul>
 *   <li>the file, its directory and its companions owner-only ({@link OwnerOnlyFiles});</li>
 *   <li>WAL journal (readers run beside the writer), {@code synchronous=NORMAL} unless the store asks
 *       for FULL, a busy timeout, foreign keys on;</li>
 *   <li><b>no memory-mapped I/O at all</b>: {@code mmap_size=0} for the database, and the
 *       {@code unix-excl} VFS, which keeps WAL's index in heap memory instead of mapping a {@code -shm}
 *       file. With the default VFS a write to the mapped {@code -shm} page of a file the kernel will not
 *       let us write (read-only remount, immutable file) raises SIGBUS inside SQLite's native code, and
 *       the JVM dies with every service in it; through {@code unix-excl} the same fault is an ordinary
 *       {@code SQLITE_IOERR} that the store answers as UNAVAILABLE, and the same connection works again
 *       once the disk does. The price: while a service runs, no other process may open its database
 *       (connections inside the same JVM share it as usual); backups go through the service.</li>
 * </ul>
 * The native library itself is extracted by sqlite-jdbc to {@code java.io.tmpdir} (or
 * {@code org.sqlite.tmpdir}) under a per-process name, so another process cannot truncate it under us.
 */
public final class Sqlite {

    /** Settings every connection gets; a store's own pragmas run after these and may override them. */
    static final List<String> DEFAULT_PRAGMAS = List.of(
            "PRAGMA mmap_size = 0",
            "PRAGMA journal_mode = WAL",
            "PRAGMA synchronous = NORMAL",
            "PRAGMA busy_timeout = 5000",
            "PRAGMA foreign_keys = ON");

    /** Opens (creating it and its directory if needed) the database at {@code file}. */
    public static Connection open(Path file, String... pragmas) throws SQLException {
        final Path absolute = file.toAbsolutePath();
        OwnerOnlyFiles.sqlite(absolute); // the file, its directory and companions owner-only
        final Connection connection = DriverManager.getConnection(url(absolute));
        try (Statement statement = connection.createStatement()) {
            for (String pragma : DEFAULT_PRAGMAS) {
                statement.execute(pragma);
            }
            for (String pragma : pragmas) {
                statement.execute(pragma.startsWith("PRAGMA") ? pragma : "PRAGMA " + pragma);
            }
        } catch (SQLException e) {
            connection.close();
            throw e;
        }
        return connection;
    }

    /** The JDBC URL of a file through the {@code unix-excl} VFS (a URI filename, so the path is escaped). */
    static String url(Path absolute) {
        return "jdbc:sqlite:file:" + absolute.toUri().getRawPath() + "?vfs=unix-excl";
    }

    /** The statements of one transaction ({@link #inTransaction}). */
    @FunctionalInterface
    public interface Work<T, E extends Exception> {
        T run() throws SQLException, E;
    }

    /**
     * Runs {@code work} in one transaction of {@code connection}, which is in autocommit mode before and after: all
     * of it is written, or nothing. What is thrown is the first failure: once SQLite has rolled a transaction back
     * itself (a write the disk refused at COMMIT), the ROLLBACK and the return to autocommit (a COMMIT, in
     * sqlite-jdbc) fail too, with "no transaction is active", and thrown instead they would hide the disk's error,
     * which is what makes the store unavailable rather than broken ({@link #isStorageFault}).
     */
    public static <T, E extends Exception> T inTransaction(Connection connection, Work<T, E> work)
            throws SQLException, E {
        // BEGIN IMMEDIATE: the write lock is taken first, waiting out another writer (the busy timeout). A deferred
        // transaction that reads and then writes fails at once with "database is locked" (SQLITE_BUSY, no wait) when
        // another connection to the file wrote after its read: seen with two replicas of pipecat on one file.
        // Only this BEGIN: sqlite-jdbc begins again right after COMMIT (before autocommit is back), and that one must
        // not wait for the write lock of a transaction that is already written.
        final SQLiteConnectionConfig sqlite = connection.unwrap(SQLiteConnection.class).getConnectionConfig();
        sqlite.setTransactionMode(SQLiteConfig.TransactionMode.IMMEDIATE);
        try {
            connection.setAutoCommit(false);
        } finally {
            sqlite.setTransactionMode(SQLiteConfig.TransactionMode.DEFERRED);
        }
        final T result;
        try {
            result = work.run();
            connection.commit();
        } catch (Exception e) {
            try {
                connection.rollback();
            } catch (SQLException after) {
                e.addSuppressed(after);
            }
            try {
                connection.setAutoCommit(true);
            } catch (SQLException after) {
                e.addSuppressed(after);
            }
            throw e;
        }
        connection.setAutoCommit(true);
        return result;
    }

    /**
     * Whether an error says the storage is unwell (I/O error, disk full, read-only, cannot open, locked
     * past the busy timeout) rather than that the statement was wrong: such errors are UNAVAILABLE and go
     * away when the disk does.
     */
    public static boolean isStorageFault(SQLException e) {
        final int primary = e.getErrorCode() & 0xff;
        return switch (primary) {
            case 5 /* BUSY */, 6 /* LOCKED */, 8 /* READONLY */, 10 /* IOERR */, 13 /* FULL */,
                 14 /* CANTOPEN */, 15 /* PROTOCOL */ -> true;
            default -> {
                final String message = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
                yield message.contains("disk i/o error") || message.contains("database or disk is full")
                      || message.contains("readonly database") || message.contains("unable to open");
            }
        };
    }

    /** A short reason for an operator: "disk I/O error", "database or disk is full", ... */
    public static String describe(SQLException e) {
        final String message = String.valueOf(e.getMessage());
        final int open = message.lastIndexOf('(');
        final int close = message.lastIndexOf(')');
        return open >= 0 && close > open ? message.substring(open + 1, close) : message;
    }

    private Sqlite() {}
}
