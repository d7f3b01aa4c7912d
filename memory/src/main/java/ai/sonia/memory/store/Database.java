package ai.sonia.memory.store;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

import ai.sonia.runtime.OwnerOnlyFiles;

/**
 * The SQLite file in WAL mode: one writer connection (owned by the {@link WriteQueue}) and a small pool of
 * reader connections that read concurrently with it.
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

    private Database(Path file, Connection writer, int readerCount, boolean fullSync) throws SQLException {
        this.file = file;
        this.writer = writer;
        readers = new ArrayBlockingQueue<>(readerCount);
        for (int i = 0; i < readerCount; i++) {
            final Connection reader = open(file, fullSync);
            readers.add(reader);
            allReaders.add(reader);
        }
    }

    /** Opens (creating if needed) and migrates the database at {@code file}. */
    public static Database open(Path file, int readerCount, boolean fullSync) {
        OwnerOnlyFiles.sqlite(file);
        try {
            final Connection writer = open(file, fullSync);
            Migrations.apply(writer);
            return new Database(file, writer, readerCount, fullSync);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot open memory database " + file + ": " + e.getMessage(), e);
        }
    }

    private static Connection open(Path file, boolean fullSync) throws SQLException {
        final Connection connection = DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath());
        try (Statement statement = connection.createStatement()) {
            statement.execute("PRAGMA journal_mode = WAL");
            // FULL syncs the WAL on every commit (survives power loss); NORMAL survives a process crash.
            statement.execute("PRAGMA synchronous = " + (fullSync ? "FULL" : "NORMAL"));
            statement.execute("PRAGMA foreign_keys = ON");
            statement.execute("PRAGMA busy_timeout = 10000");
            // Freed pages are zeroed, so forgotten text does not linger in the file.
            statement.execute("PRAGMA secure_delete = ON");
            statement.execute("PRAGMA temp_store = MEMORY");
            statement.execute("PRAGMA cache_size = -65536");
        }
        return connection;
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
            throw new StoreException(e);
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
    }

    private static void closeQuietly(Connection connection) {
        try {
            connection.close();
        } catch (SQLException ignored) {
            // Closing at shutdown: nothing left to do with the error.
        }
    }
}
