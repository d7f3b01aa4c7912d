package ai.sonia.memory.store;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one writer, with group commit: a single thread takes every queued write, runs each inside its own
 * savepoint of one transaction, and commits them together, so one fsync acknowledges many writes. A write
 * that fails rolls back to its savepoint alone; nothing is half-written. A caller is answered only after the
 * commit that holds its write.
 */
public final class WriteQueue implements AutoCloseable {

    /** Work that writes through the writer connection, inside a transaction. */
    @FunctionalInterface
    public interface Write<T> {
        T run(Connection connection) throws SQLException;
    }

    private static final Logger logger = LoggerFactory.getLogger(WriteQueue.class);
    private static final int MAX_BATCH = 256;

    private record Task<T>(Write<T> write, boolean transactional, CompletableFuture<T> result) {}

    private final Connection connection;
    private final Database database;
    private final BlockingQueue<Task<?>> queue = new LinkedBlockingQueue<>();
    private final Thread thread;
    private volatile boolean closed;

    public WriteQueue(Database database) {
        this.database = database;
        connection = database.writer();
        thread = new Thread(this::loop, "memory-writer");
        thread.setDaemon(true);
        thread.start();
    }

    /** Runs {@code write} in the next group commit and waits until it is durable. */
    public <T> T write(Write<T> write) {
        return submit(write, true);
    }

    /**
     * Runs {@code work} alone on the writer connection, outside any transaction, between two group commits
     * (for SQLite's online backup and restore, which manage their own locking).
     */
    public <T> T exclusive(Write<T> work) {
        return submit(work, false);
    }

    private <T> T submit(Write<T> write, boolean transactional) {
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
                throw database.health().unavailableOr(sql, new StoreException(sql));
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
            task.result().complete(task.write().run(connection));
        } catch (SQLException | RuntimeException e) {
            task.result().completeExceptionally(e);
        }
    }

    private void commit(List<Task<?>> batch) {
        if (batch.isEmpty()) {
            return;
        }
        final List<Runnable> completions = new ArrayList<>(batch.size());
        try (Statement statement = connection.createStatement()) {
            statement.execute("BEGIN IMMEDIATE");
            for (Task<?> task : batch) {
                completions.add(runInSavepoint(statement, task));
            }
            statement.execute("COMMIT");
        } catch (SQLException e) {
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
        try (Statement statement = connection.createStatement()) {
            statement.execute("ROLLBACK");
        } catch (SQLException ignored) {
            // No transaction was open.
        }
    }

    /** Finishes the queued writes, then stops the writer thread. */
    @Override
    public void close() {
        closed = true;
        thread.interrupt();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
