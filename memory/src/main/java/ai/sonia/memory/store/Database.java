package ai.sonia.memory.store;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

import ai.sonia.runtime.store.Sqlite;
import ai.sonia.runtime.store.StoreHealth;

/**
 * The SQLite file in WAL mode: one writer connection (owned by the {@link WriteQueue}) and a small pool of
 * reader connections that read concurrently with it, opened with the runtime's settings ({@link Sqlite}).
 * A storage fault is UNAVAILABLE ({@link StoreHealth}); the same connections work again when the disk does.
 */
public final class Database implements AutoCloseable {

    /** Work that reads through one pooled connection. */
    @FunctionalInterface
    public interface Read<T> {
        T run(Connection connection) throws SQLException;
    }

    private final Path file;
    private final Connection writer;
    private final BlockingQueue<Connection> readers;
    private final List<Connection> allReaders = new ArrayList<>();
    private final StoreHealth health;

    private Database(Path file, Connection writer, int readerCount, boolean fullSync) throws SQLException {
        this.file = file;
        this.writer = writer;
        health = new StoreHealth(file);
        readers = new ArrayBlockingQueue<>(readerCount);
        for (int i = 0; i < readerCount; i++) {
            final Connection reader = open(file, fullSync);
            readers.add(reader);
            allReaders.add(reader);
        }
    }

    /** Opens (creating if needed) and migrates the database at {@code file}. */
    public static Database open(Path file, int readerCount, boolean fullSync) {
        try {
            final Connection writer = open(file, fullSync);
            Migrations.apply(writer);
            return new Database(file, writer, readerCount, fullSync);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot open memory database " + file + ": " + e.getMessage(), e);
        }
    }

    private static Connection open(Path file, boolean fullSync) throws SQLException {
        // FULL syncs the WAL on every commit (survives power loss); NORMAL survives a process crash.
        // Freed pages are zeroed (secure_delete), so forgotten text does not linger in the file.
        return Sqlite.open(file, "synchronous = " + (fullSync ? "FULL" : "NORMAL"), "busy_timeout = 10000",
                           "secure_delete = ON", "temp_store = MEMORY", "cache_size = -65536");
    }

    /** Whether the file can be written now; storage faults are reported to it. */
    StoreHealth health() {
        return health;
    }

    /** The database file. */
    public Path file() {
        return file;
    }

    Connection writer() {
        return writer;
    }

    /** Runs {@code read} on a pooled reader connection, waiting for one if all are busy. */
    public <T> T read(Read<T> read) {
        final Connection connection;
        try {
            connection = readers.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a reader", e);
        }
        try {
            return read.run(connection);
        } catch (SQLException e) {
            throw health.unavailableOr(e, new StoreException(e));
        } finally {
            readers.add(connection);
        }
    }

    @Override
    public void close() {
        for (Connection connection : allReaders) {
            closeQuietly(connection);
        }
        closeQuietly(writer);
        health.close();
    }

    private static void closeQuietly(Connection connection) {
        try {
            connection.close();
        } catch (SQLException ignored) {
            // Closing at shutdown: nothing left to do with the error.
        }
    }
}
