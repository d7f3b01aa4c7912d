package ai.sonia.router.store;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

import javax.annotation.Nullable;

import ai.sonia.router.domain.BudgetLimits;
import ai.sonia.router.domain.HourTotal;
import ai.sonia.router.domain.Ledger;
import ai.sonia.router.domain.UsageRecord;
import ai.sonia.router.domain.UsageScope;
import ai.sonia.router.domain.UsageSums;
import ai.sonia.runtime.store.Migrations;
import ai.sonia.runtime.store.Sqlite;
import ai.sonia.runtime.store.StoreHealth;

/**
 * The token and cost ledger in SQLite (WAL). One row per served request; costs are integers in
 * micro-USD, so sums are exact. The schema comes from the Flyway migrations under {@value #MIGRATIONS}; a
 * ledger made before them (the same table, no history) is adopted as it is, since V1 creates only what is
 * missing. Writes go through one connection, serialized and group-committed; reads use their own connection and see a
 * consistent snapshot inside one transaction.
 */
public final class SqliteLedger implements Ledger, AutoCloseable {

    /** Where the ledger's migrations live on the classpath ({@code V1__baseline.sql}, ...). */
    static final String MIGRATIONS = "db/router/ledger";

    static final String GROUP = " WHERE (? = '' OR tenant = ?) AND (? = '' OR principal = ?)"
                                        + " AND (? = '' OR day >= ?) AND (? = '' OR day <= ?)";

    static final String INSERT =
            "INSERT INTO usage (ts_ms, day, tenant, principal, alias, deployment, provider, prompt_tokens,"
            + " completion_tokens, cost_micros, latency_ms) VALUES (?,?,?,?,?,?,?,?,?,?,?)";

    private final Connection writer;
    private final Connection reader;
    private final StoreHealth health;
    // After a disk I/O error sqlite-jdbc leaves a statement broken for good ("statement is not executing"):
    // it is prepared again after each storage fault, or the ledger would keep failing once the disk is back.
    private PreparedStatement insert;
    private final Queue<Pending> queue = new ConcurrentLinkedQueue<>();

    private SqliteLedger(Connection writer, Connection reader, Path file) throws SQLException {
        this.writer = writer;
        this.reader = reader;
        health = new StoreHealth(file);
        insert = writer.prepareStatement(INSERT);
    }

    /** Opens (creating if needed) {@code usage.db} in the directory. */
    public static SqliteLedger open(Path directory) {
        try {
            final Path file = directory.resolve("usage.db");
            final Connection writer = Sqlite.open(file);
            try {
                Migrations.migrate(writer, MIGRATIONS);
            } catch (SQLException e) {
                writer.close();
                throw e;
            }
            final Connection reader = Sqlite.open(file);
            return new SqliteLedger(writer, reader, file);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot open the ledger in " + directory + ": " + e.getMessage(), e);
        }
    }

    /**
     * Writes the row and returns once it is committed (a caller is answered only after its row is in the
     * ledger). Group commit: rows recorded while another batch is being written wait in a queue, and the next
     * writer commits all of them in one transaction, so concurrent callers share one commit instead of
     * queueing for one each. A batch that fails fails every row in it, and nothing of it is kept.
     */
    @Override
    public void record(UsageRecord u) {
        final Pending pending = new Pending(u);
        queue.add(pending);
        synchronized (this) {
            if (!pending.done) {
                final List<Pending> batch = new ArrayList<>();
                for (Pending next; (next = queue.poll()) != null; ) {
                    batch.add(next);
                }
                final RuntimeException failure = write(batch);
                for (Pending p : batch) {
                    p.failure = failure;
                    p.done = true;
                }
            }
        }
        if (pending.failure != null) {
            throw pending.failure;
        }
    }

    /** Inserts the batch in one transaction; the failure of all of it, or null. Called holding the monitor. */
    @Nullable
    private RuntimeException write(List<Pending> batch) {
        try {
            if (insert == null) {
                insert = writer.prepareStatement(INSERT);
            }
            if (batch.size() == 1) {
                bindRow(insert, batch.get(0).usage);
                insert.executeUpdate();
                return null;
            }
            writer.setAutoCommit(false);
            try {
                for (Pending p : batch) {
                    bindRow(insert, p.usage);
                    insert.addBatch();
                }
                insert.executeBatch();
                writer.commit();
            } catch (SQLException e) {
                insert.clearBatch();
                writer.rollback();
                throw e;
            } finally {
                writer.setAutoCommit(true);
            }
            return null;
        } catch (SQLException e) {
            if (Sqlite.isStorageFault(e) && insert != null) {
                closeQuietly(insert);
                insert = null;
            }
            return health.unavailableOr(e, new IllegalStateException("ledger write failed: " + e.getMessage(), e));
        }
    }

    /**
     * Checks the tenant's month and writes the row in one transaction of the one writer connection, under the
     * same monitor as the group commit: no other write of this ledger (and, through the {@code unix-excl} VFS,
     * of any other process) comes between the check and the write.
     */
    @Override
    public boolean recordWithin(UsageRecord u, BudgetLimits limits) {
        final String month = dayOf(u.epochMillis()).substring(0, 7);
        synchronized (this) {
            try {
                if (insert == null) {
                    insert = writer.prepareStatement(INSERT);
                }
                writer.setAutoCommit(false);
                try (PreparedStatement q = writer.prepareStatement(
                        "SELECT COALESCE(SUM(prompt_tokens + completion_tokens), 0), COALESCE(SUM(cost_micros), 0)"
                        + " FROM usage WHERE tenant = ? AND day >= ? AND day < ?")) {
                    q.setString(1, u.tenant());
                    q.setString(2, month + "-01");
                    q.setString(3, month + "-32");
                    final boolean fits;
                    try (ResultSet rs = q.executeQuery()) {
                        rs.next();
                        fits = fits(limits, rs.getLong(1), rs.getLong(2), u);
                    }
                    if (fits) {
                        bindRow(insert, u);
                        insert.executeUpdate();
                    }
                    writer.commit();
                    return fits;
                } catch (SQLException e) {
                    writer.rollback();
                    throw e;
                } finally {
                    writer.setAutoCommit(true);
                }
            } catch (SQLException e) {
                if (Sqlite.isStorageFault(e) && insert != null) {
                    closeQuietly(insert);
                    insert = null;
                }
                throw health.unavailableOr(e, new IllegalStateException("ledger write failed: " + e.getMessage(), e));
            }
        }
    }

    /** Whether {@code u} fits {@code limits} on top of what its tenant's month already holds. */
    static boolean fits(BudgetLimits limits, long spentTokens, long spentCost, UsageRecord u) {
        return (limits.tokens() == 0 || spentTokens + u.promptTokens() + u.completionTokens() <= limits.tokens())
               && (limits.costMicros() == 0 || spentCost + u.costMicros() <= limits.costMicros());
    }

    static void bindRow(PreparedStatement insert, UsageRecord u) throws SQLException {
        insert.setLong(1, u.epochMillis());
        insert.setString(2, dayOf(u.epochMillis()));
        insert.setString(3, u.tenant());
        insert.setString(4, u.principal());
        insert.setString(5, u.alias());
        insert.setString(6, u.deployment());
        insert.setString(7, u.provider());
        insert.setLong(8, u.promptTokens());
        insert.setLong(9, u.completionTokens());
        insert.setLong(10, u.costMicros());
        insert.setLong(11, u.latencyMs());
    }

    /** A row waiting for its batch; its fields are written and read under the ledger's monitor. */
    private static final class Pending {
        final UsageRecord usage;
        boolean done;
        @Nullable
        RuntimeException failure;

        Pending(UsageRecord usage) {
            this.usage = usage;
        }
    }

    @Override
    public synchronized UsageSums sums(UsageScope scope, String startDay, String endDay,
                                       @Nullable UsageSums.Key after, int limit) {
        try {
            reader.setAutoCommit(false);
            try {
                final List<UsageSums.Row> rows = new ArrayList<>();
                try (PreparedStatement q = reader.prepareStatement(
                        "SELECT tenant, deployment, day, COUNT(*), SUM(prompt_tokens), SUM(completion_tokens),"
                        + " SUM(cost_micros) FROM usage" + GROUP + " AND (? OR (day, tenant, deployment) > (?, ?, ?))"
                        + " GROUP BY tenant, deployment, day ORDER BY day, tenant, deployment LIMIT ?")) {
                    bind(q, scope, startDay, endDay);
                    q.setBoolean(9, after == null);
                    q.setString(10, after == null ? "" : after.day());
                    q.setString(11, after == null ? "" : after.tenant());
                    q.setString(12, after == null ? "" : after.model());
                    q.setInt(13, limit);
                    try (ResultSet rs = q.executeQuery()) {
                        while (rs.next()) {
                            rows.add(new UsageSums.Row(rs.getString(1), rs.getString(2), rs.getString(3), rs.getLong(4),
                                                       rs.getLong(5), rs.getLong(6), rs.getLong(7)));
                        }
                    }
                }
                final UsageSums.Row total;
                try (PreparedStatement q = reader.prepareStatement(
                        "SELECT COUNT(*), COALESCE(SUM(prompt_tokens), 0), COALESCE(SUM(completion_tokens), 0),"
                        + " COALESCE(SUM(cost_micros), 0) FROM usage" + GROUP)) {
                    bind(q, scope, startDay, endDay);
                    try (ResultSet rs = q.executeQuery()) {
                        rs.next();
                        total = new UsageSums.Row("", "", "", rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getLong(4));
                    }
                }
                return new UsageSums(rows, total);
            } finally {
                reader.commit();
                reader.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw health.unavailableOr(e, new IllegalStateException("ledger read failed: " + e.getMessage(), e));
        }
    }

    @Override
    public synchronized List<HourTotal> hourlyTotals(UsageScope scope, long fromHour) {
        final List<HourTotal> hours = new ArrayList<>();
        final long fromMs = Math.multiplyExact(fromHour, HOUR_MS);
        // The day bound lets the (tenant, day) index narrow the rows before ts_ms does.
        try (PreparedStatement q = reader.prepareStatement(
                "SELECT ts_ms / " + HOUR_MS + ", SUM(prompt_tokens), SUM(completion_tokens), SUM(cost_micros) FROM usage"
                + GROUP + " AND ts_ms >= ? GROUP BY 1 ORDER BY 1")) {
            bind(q, scope, dayOf(fromMs), "");
            q.setLong(9, fromMs);
            try (ResultSet rs = q.executeQuery()) {
                while (rs.next()) {
                    hours.add(new HourTotal(rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getLong(4)));
                }
            }
        } catch (SQLException e) {
            throw health.unavailableOr(e, new IllegalStateException("ledger read failed: " + e.getMessage(), e));
        }
        return hours;
    }

    private static final long HOUR_MS = 3_600_000L;

    @Override
    public synchronized Charged chargedSince(String tenant, String fromDay) {
        try (PreparedStatement q = reader.prepareStatement(
                "SELECT COALESCE(SUM(prompt_tokens + completion_tokens), 0), COALESCE(SUM(cost_micros), 0)"
                + " FROM usage WHERE tenant = ? AND day >= ?")) {
            q.setString(1, tenant);
            q.setString(2, fromDay);
            try (ResultSet rs = q.executeQuery()) {
                rs.next();
                return new Charged(rs.getLong(1), rs.getLong(2));
            }
        } catch (SQLException e) {
            throw health.unavailableOr(e, new IllegalStateException("ledger read failed: " + e.getMessage(), e));
        }
    }

    static String dayOf(long epochMillis) {
        return LocalDate.ofInstant(Instant.ofEpochMilli(epochMillis), ZoneOffset.UTC).toString();
    }

    private static void closeQuietly(PreparedStatement statement) {
        try {
            statement.close();
        } catch (SQLException ignored) {
            // A statement broken by the fault: nothing more to do with it.
        }
    }

    static void bind(PreparedStatement q, UsageScope scope, String startDay, String endDay) throws SQLException {
        q.setString(1, scope.tenant());
        q.setString(2, scope.tenant());
        q.setString(3, scope.principal());
        q.setString(4, scope.principal());
        q.setString(5, startDay);
        q.setString(6, startDay);
        q.setString(7, endDay);
        q.setString(8, endDay);
    }

    @Override
    public synchronized void close() throws SQLException {
        health.close();
        if (insert != null) {
            insert.close();
        }
        writer.close();
        reader.close();
    }
}
