package ai.sonia.memory.store;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingDeque;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.LinkedBlockingQueue;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import ai.sonia.runtime.Threads;
import ai.sonia.runtime.store.Sqlite;
import ai.sonia.runtime.store.StoreHealth;

/**
 * The ledger's SQLite file in WAL mode, opened with the runtime's settings ({@link Sqlite}): a small pool of
 * reader connections that read concurrently with the one writer, each keeping its prepared statements
 * ({@link StatementCache}), and the writer with group commit — a
 * single thread takes every queued write, runs each inside its own savepoint of one transaction, and
 * commits them together, so one fsync acknowledges many writes. A write that fails rolls back to its
 * savepoint alone; a caller is answered only after the commit that holds its write. A storage fault is
 * UNAVAILABLE ({@link StoreHealth}); the same connections work again when the disk does.
 */
final class LedgerFile implements AutoCloseable {

    /** Work on one connection: a read on a pooled reader, or a write on the writer. */
    @FunctionalInterface
    interface Work<T> {
        T run(Connection connection) throws SQLException;
    }

    private static final Logger logger = LoggerFactory.getLogger(LedgerFile.class);
    private static final int MAX_BATCH = 256;

    private record Task<T>(Work<T> write, boolean transactional, CompletableFuture<T> result) {}

    private final Path file;
    private final Connection writer;
    /** Idle readers, the most recently used first: a lone caller keeps reusing one, whose page cache is warm. */
    private final BlockingDeque<Connection> readers;
    private final List<Connection> allReaders = new ArrayList<>();
    private final StoreHealth health;
    private final BlockingQueue<Task<?>> queue = new LinkedBlockingQueue<>();
    private final Thread thread;
    private final Work<Runnable> beforeCommit;
    private volatile boolean closed;

    /**
     * Opens (creating if needed) the file; {@code migrate} brings the writer's schema up to date first.
     * {@code beforeCommit} runs on the writer inside each group's transaction just before its commit; what it
     * returns runs once the commit succeeded, before the group's writers are answered.
     */
    LedgerFile(Path file, int readerCount, boolean fullSync, Work<Void> migrate, Work<Runnable> beforeCommit) {
        this.file = file;
        this.beforeCommit = beforeCommit;
        readers = new LinkedBlockingDeque<>(readerCount);
        try {
            writer = open(file, fullSync);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot open memory database " + file + ": " + e.getMessage(), e);
        }
        try {
            migrate.run(writer);
            for (int i = 0; i < readerCount; i++) {
                final Connection reader = open(file, fullSync);
                readers.add(StatementCache.wrap(reader));
                allReaders.add(reader);
            }
        } catch (SQLException e) {
            allReaders.forEach(LedgerFile::closeQuietly);
            closeQuietly(writer);
            throw new IllegalStateException("cannot open memory database " + file + ": " + e.getMessage(), e);
        }
        health = new StoreHealth(file);
        thread = Threads.factory("memory-writer").newThread(this::loop);
        thread.start();
    }

    private static Connection open(Path file, boolean fullSync) throws SQLException {
        // FULL syncs the WAL on every commit (survives power loss); NORMAL survives a process crash.
        // Freed pages are zeroed (secure_delete), so forgotten text does not linger in the file.
        return Sqlite.open(file, "synchronous = " + (fullSync ? "FULL" : "NORMAL"), "busy_timeout = 10000",
                           "secure_delete = ON", "temp_store = MEMORY", "cache_size = -65536");
    }

    Path file() {
        return file;
    }

    /** Runs {@code read} on a pooled reader connection, waiting for one if all are busy. */
    <T> T read(Work<T> read) {
        final Connection connection;
        try {
            connection = readers.takeFirst();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a reader", e);
        }
        try {
            return read.run(connection);
        } catch (SQLException e) {
            throw failure(e);
        } finally {
            readers.addFirst(connection);
        }
    }

    /** Runs {@code write} in the next group commit and waits until it is durable. */
    <T> T write(Work<T> write) {
        return submit(write, true);
    }

    /**
     * Runs {@code work} alone on the writer connection, outside any transaction, between two group commits
     * (for SQLite's online backup and restore, which manage their own locking).
     */
    <T> T exclusive(Work<T> work) {
        return submit(work, false);
    }

    /** UNAVAILABLE for a storage fault; any other database error is the server's (INTERNAL). */
    private RuntimeException failure(SQLException e) {
        return health.unavailableOr(e, new IllegalStateException("memory database: " + e.getMessage(), e));
    }

    private <T> T submit(Work<T> write, boolean transactional) {
        if (closed) {
            throw new IllegalStateException("the memory store is closed");
        }
        final CompletableFuture<T> result = new CompletableFuture<>();
        queue.add(new Task<>(write, transactional, result));
        try {
            return result.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a write", e);
        } catch (ExecutionException e) {
            final Throwable cause = e.getCause();
            if (cause instanceof SQLException sql) {
                throw failure(sql);
            }
            if (cause instanceof RuntimeException runtime) {
                throw runtime;
            }
            throw new CompletionException(cause);
        }
    }

    private void loop() {
        final List<Task<?>> batch = new ArrayList<>();
        while (!closed || !queue.isEmpty()) {
            try {
                batch.add(queue.take());
            } catch (InterruptedException e) {
                if (closed) {
                    break;
                }
                continue;
            }
            queue.drainTo(batch, MAX_BATCH - 1);
            final List<Task<?>> group = new ArrayList<>();
            for (Task<?> task : batch) {
                if (task.transactional()) {
                    group.add(task);
                    continue;
                }
                commit(group);
                group.clear();
                runAlone(task);
            }
            commit(group);
            batch.clear();
        }
    }

    private <T> void runAlone(Task<T> task) {
        try {
            task.result().complete(task.write().run(writer));
        } catch (SQLException | RuntimeException e) {
            task.result().completeExceptionally(e);
        }
    }

    private void commit(List<Task<?>> batch) {
        if (batch.isEmpty()) {
            return;
        }
        final List<Runnable> completions = new ArrayList<>(batch.size() + 1);
        try (Statement statement = writer.createStatement()) {
            statement.execute("BEGIN IMMEDIATE");
            for (Task<?> task : batch) {
                completions.add(runInSavepoint(statement, task));
            }
            completions.add(0, beforeCommit.run(writer));
            statement.execute("COMMIT");
        } catch (SQLException | RuntimeException e) {
            logger.error("Group commit of {} writes failed", batch.size(), e);
            rollbackQuietly();
            batch.forEach(task -> task.result().completeExceptionally(e));
            return;
        }
        completions.forEach(Runnable::run);
    }

    private static <T> Runnable runInSavepoint(Statement statement, Task<T> task) throws SQLException {
        statement.execute("SAVEPOINT write");
        try {
            final T value = task.write().run(statement.getConnection());
            statement.execute("RELEASE write");
            return () -> task.result().complete(value);
        } catch (SQLException | RuntimeException e) {
            statement.execute("ROLLBACK TO write");
            statement.execute("RELEASE write");
            return () -> task.result().completeExceptionally(e);
        }
    }

    private void rollbackQuietly() {
        try (Statement statement = writer.createStatement()) {
            statement.execute("ROLLBACK");
        } catch (SQLException ignored) {
            // No transaction was open.
        }
    }

    /** Finishes the queued writes, stops the writer thread, then closes every connection. */
    @Override
    public void close() {
        closed = true;
        thread.interrupt();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        allReaders.forEach(LedgerFile::closeQuietly);
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
