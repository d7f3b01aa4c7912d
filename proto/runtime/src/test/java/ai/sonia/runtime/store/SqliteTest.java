package ai.sonia.runtime.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

import ai.sonia.runtime.testing.DiskFaults;
import ai.sonia.runtime.testing.TestHomes;

/** The runtime's one way to open SQLite: no mapped memory, and a disk fault is an error that passes. */
class SqliteTest {

    @Test
    void nothingIsMemoryMappedAndWalStaysOn() throws Exception {
        final Path file = TestHomes.create("sqlite").resolve("data/demo/demo.db");
        try (Connection c = Sqlite.open(file); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE t (x)");
            s.execute("INSERT INTO t VALUES (1)");
            assertThat(scalar(s, "PRAGMA journal_mode")).isEqualTo("wal");
            assertThat(scalar(s, "PRAGMA mmap_size")).isEqualTo("0");
            assertThat(scalar(s, "PRAGMA busy_timeout")).isEqualTo("5000");
            // The WAL index lives in heap memory: there is no -shm file to map.
            assertThat(Files.exists(Path.of(file + "-shm"))).isFalse();
            assertThat(Files.exists(Path.of(file + "-wal"))).isTrue();
            // A second connection of the same process reads beside the first one's open transaction.
            try (Connection reader = Sqlite.open(file); Statement r = reader.createStatement()) {
                c.setAutoCommit(false);
                s.execute("INSERT INTO t VALUES (2)");
                assertThat(scalar(r, "SELECT count(*) FROM t")).isEqualTo("1");
                c.commit();
                assertThat(scalar(r, "SELECT count(*) FROM t")).isEqualTo("2");
            }
        }
    }

    @Test
    void aStoreOnAnUnwritableDiskFailsCleanlyAndRecoversByItself() throws Exception {
        final Path dir = TestHomes.create("sqlite-fault").resolve("data/demo");
        final Path file = dir.resolve("demo.db");
        try (Connection c = Sqlite.open(file); Statement s = c.createStatement();
             StoreHealth health = new StoreHealth(file)) {
            s.execute("CREATE TABLE t (x)");
            for (int i = 0; i < 50; i++) {
                s.execute("INSERT INTO t VALUES (randomblob(3000))");
            }
            try (DiskFaults ignored = DiskFaults.readOnly(dir)) {
                // With SQLite's default VFS this write kills the JVM with SIGBUS (the -shm mapping).
                final SQLException failure = catchSql(() -> s.execute("INSERT INTO t VALUES (randomblob(3000))"));
                assertThat(Sqlite.isStorageFault(failure)).isTrue();
                assertThatThrownBy(() -> { throw health.unavailableOr(failure, new IllegalStateException()); })
                        .isInstanceOfSatisfying(StoreUnavailableException.class, e -> {
                            assertThat(e.service()).isEqualTo("demo");
                            assertThat(e.store()).isEqualTo("demo.db");
                            assertThat(e.reason()).isEqualTo("disk I/O error");
                        });
                assertThat(StoreHealth.problemsUnder(dir)).containsExactly("demo.db cannot be written: disk I/O error");
                // Reads go on.
                assertThat(scalar(s, "SELECT count(*) FROM t")).isEqualTo("50");
            }
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> health.problem() == null);
            assertThat(StoreHealth.problemsUnder(dir)).isEmpty();
            s.execute("INSERT INTO t VALUES (1)");
            assertThat(scalar(s, "SELECT count(*) FROM t")).isEqualTo("51");
        }
    }

    @Test
    void aTransactionTheDiskRefusesFailsWithTheDisksErrorAndLeavesTheConnectionUsable() throws Exception {
        final Path dir = TestHomes.create("sqlite-transaction").resolve("data/demo");
        final Path file = dir.resolve("demo.db");
        try (Connection c = Sqlite.open(file); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE t (x)");
            try (DiskFaults ignored = DiskFaults.readOnly(dir)) {
                final SQLException failure = catchSql(() -> Sqlite.inTransaction(c, () -> {
                    s.execute("INSERT INTO t VALUES (1)");
                    return s.execute("INSERT INTO t VALUES (2)");
                }));
                // Not "cannot commit - no transaction is active" from putting autocommit back.
                assertThat(Sqlite.isStorageFault(failure)).as(failure.toString()).isTrue();
            }
            assertThat(c.getAutoCommit()).isTrue();
            assertThat(scalar(s, "SELECT count(*) FROM t")).isEqualTo("0");
            assertThat(Sqlite.inTransaction(c, () -> s.executeUpdate("INSERT INTO t VALUES (3)"))).isEqualTo(1);
            assertThat(scalar(s, "SELECT count(*) FROM t")).isEqualTo("1");
        }
    }

    @Test
    void aTransactionThatReadsThenWritesWaitsForAnotherWriterInsteadOfFailing() throws Exception {
        final Path file = TestHomes.create("sqlite-immediate").resolve("data/demo/demo.db");
        try (Connection a = Sqlite.open(file); Connection b = Sqlite.open(file); Statement sa = a.createStatement()) {
            sa.execute("CREATE TABLE t (x)");
            final java.util.concurrent.CountDownLatch bWrites = new java.util.concurrent.CountDownLatch(1);
            final java.util.concurrent.CompletableFuture<Integer> other = new java.util.concurrent.CompletableFuture<>();
            final int next = Sqlite.inTransaction(a, () -> {
                final int count = Integer.parseInt(scalar(sa, "SELECT count(*) FROM t"));
                // Another connection writes after this read and before this write.
                new Thread(() -> {
                    bWrites.countDown();
                    try (Statement sb = b.createStatement()) {
                        other.complete(sb.executeUpdate("INSERT INTO t VALUES (100)"));
                    } catch (SQLException e) {
                        other.completeExceptionally(e);
                    }
                }).start();
                bWrites.await();
                Thread.sleep(200);
                sa.execute("INSERT INTO t VALUES (" + (count + 1) + ")");
                return count + 1;
            });
            // Before: SQLITE_BUSY ("database is locked") here, at once, as the snapshot read was no longer the newest.
            assertThat(next).isEqualTo(1);
            assertThat(other.get(10, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo(1);
            assertThat(scalar(sa, "SELECT group_concat(x) FROM (SELECT x FROM t ORDER BY x)")).isEqualTo("1,100");
        }
    }

    @Test
    void statementErrorsAreNotStorageFaults() throws Exception {
        final Path file = TestHomes.create("sqlite-errors").resolve("data/demo/demo.db");
        try (Connection c = Sqlite.open(file); Statement s = c.createStatement();
             StoreHealth health = new StoreHealth(file)) {
            s.execute("CREATE TABLE t (x PRIMARY KEY)");
            s.execute("INSERT INTO t VALUES (1)");
            final SQLException duplicate = catchSql(() -> s.execute("INSERT INTO t VALUES (1)"));
            final IllegalStateException otherwise = new IllegalStateException("constraint");
            assertThat(health.unavailableOr(duplicate, otherwise)).isSameAs(otherwise);
            assertThat(health.problem()).isNull();
        }
    }

    private interface SqlRun {
        void run() throws SQLException;
    }

    private static SQLException catchSql(SqlRun run) {
        try {
            run.run();
        } catch (SQLException e) {
            return e;
        }
        throw new AssertionError("expected an SQLException");
    }

    private static String scalar(Statement s, String sql) throws SQLException {
        try (ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }
}
