package ai.sonia.router.store;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;

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

    private final Connection writer;
    private final Connection reader;
    private final StoreHealth health;
    // After a disk I/O error sqlite-jdbc leaves a statement broken for good ("statement is not executing"):
    // it is prepared again after each storage fault, or the ledger would keep failing once the disk is back.
    private PreparedStatement insert;
    private final LedgerSql.GroupCommit groupCommit = new LedgerSql.GroupCommit();

    private SqliteLedger(Connection writer, Connection reader, Path file) throws SQLException {
        this.writer = writer;
        this.reader = reader;
        health = new StoreHealth(file);
        insert = writer.prepareStatement(LedgerSql.INSERT);
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
        groupCommit.record(u, this, this::write);
    }

    /** Inserts the batch in one transaction; the failure of all of it, or null. Called holding the monitor. */
    @Nullable
    private RuntimeException write(List<UsageRecord> batch) {
        try {
            if (insert == null) {
                insert = writer.prepareStatement(LedgerSql.INSERT);
            }
            if (batch.size() == 1) {
                LedgerSql.bindRow(insert, batch.get(0));
                insert.executeUpdate();
                return null;
            }
            try {
                Sqlite.inTransaction(writer, () -> {
                    for (UsageRecord u : batch) {
                        LedgerSql.bindRow(insert, u);
                        insert.addBatch();
                    }
                    return insert.executeBatch();
                });
            } catch (SQLException e) {
                insert.clearBatch();
                throw e;
            }
            return null;
        } catch (SQLException e) {
            return writeFailure(e);
        }
    }

    /**
     * Checks the tenant's month and writes the row in one transaction of the one writer connection, under the
     * same monitor as the group commit: no other write of this ledger (and, through the {@code unix-excl} VFS,
     * of any other process) comes between the check and the write.
     */
    @Override
    public synchronized boolean recordWithin(UsageRecord u, BudgetLimits limits) {
        final String month = LedgerSql.monthOf(u);
        try {
            if (insert == null) {
                insert = writer.prepareStatement(LedgerSql.INSERT);
            }
            return Sqlite.inTransaction(writer, () -> {
                try (PreparedStatement q = writer.prepareStatement(
                        "SELECT COALESCE(SUM(prompt_tokens + completion_tokens), 0), COALESCE(SUM(cost_micros), 0)"
                        + " FROM usage WHERE tenant = ? AND day >= ? AND day < ?")) {
                    q.setString(1, u.tenant());
                    q.setString(2, month + "-01");
                    q.setString(3, month + "-32");
                    final boolean fits;
                    try (ResultSet rs = q.executeQuery()) {
                        rs.next();
                        fits = LedgerSql.fits(limits, rs.getLong(1), rs.getLong(2), u);
                    }
                    if (fits) {
                        LedgerSql.bindRow(insert, u);
                        insert.executeUpdate();
                    }
                    return fits;
                }
            });
        } catch (SQLException e) {
            throw writeFailure(e);
        }
    }

    /** The exception of a failed write; after a storage fault the insert is prepared again. */
    private RuntimeException writeFailure(SQLException e) {
        if (Sqlite.isStorageFault(e) && insert != null) {
            closeQuietly(insert);
            insert = null;
        }
        return health.unavailableOr(e, new IllegalStateException("ledger write failed: " + e.getMessage(), e));
    }

    @Override
    public synchronized UsageSums sums(UsageScope scope, String startDay, String endDay,
                                       @Nullable UsageSums.Key after, int limit) {
        try {
            reader.setAutoCommit(false);
            try {
                return LedgerSql.sums(reader, scope, startDay, endDay, after, limit);
            } finally {
                reader.commit();
                reader.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw readFailure(e);
        }
    }

    @Override
    public synchronized List<HourTotal> hourlyTotals(UsageScope scope, long fromHour) {
        try {
            return LedgerSql.hourlyTotals(reader, scope, fromHour);
        } catch (SQLException e) {
            throw readFailure(e);
        }
    }

    @Override
    public synchronized Charged chargedSince(String tenant, String fromDay) {
        try {
            return LedgerSql.chargedSince(reader, tenant, fromDay);
        } catch (SQLException e) {
            throw readFailure(e);
        }
    }

    private RuntimeException readFailure(SQLException e) {
        return health.unavailableOr(e, new IllegalStateException("ledger read failed: " + e.getMessage(), e));
    }

    private static void closeQuietly(PreparedStatement statement) {
        try {
            statement.close();
        } catch (SQLException ignored) {
            // A statement broken by the fault: nothing more to do with it.
        }
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
