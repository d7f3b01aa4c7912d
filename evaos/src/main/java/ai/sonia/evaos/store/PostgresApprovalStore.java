package ai.sonia.evaos.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.function.BiConsumer;

import javax.annotation.Nullable;

import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import ai.sonia.evaos.domain.ApprovalStore;
import ai.sonia.evaos.v1.Approval;
import ai.sonia.evaos.v1.ApprovalChange;
import ai.sonia.evaos.v1.ApprovalState;
import ai.sonia.evaos.v1.Decision;
import ai.sonia.evaos.v1.GrantScope;
import ai.sonia.runtime.Threads;
import ai.sonia.runtime.store.Postgres;
import ai.sonia.runtime.store.PostgresPool;
import ai.sonia.runtime.store.Sql;

/**
 * Approvals on PostgreSQL (with {@code store.engine} postgres), shared by every evaos replica: the same rows as
 * {@link SqliteApprovalStore}, schema by the Flyway SQL of {@code db/postgresql/evaos/approvals}. State
 * changes are single conditional statements ({@code UPDATE ... WHERE state = PENDING}, {@code WHERE use_count
 * = 0}, an expiry {@code UPDATE ... RETURNING}): PostgreSQL re-checks the condition on the row it has locked,
 * so of two replicas deciding one approval, or using one ONCE grant, exactly one wins. A decision and its
 * record in {@code decisions} are one transaction.
 *
 * <p>Each change (CREATED, DECIDED, EXPIRED) sends, in its own transaction, a {@code NOTIFY} on the schema's
 * channel carrying only the store's origin, the change and the approval id; PostgreSQL delivers it after the
 * commit, in commit order. {@link #followOtherReplicas} listens on one connection of its own, skips its own
 * store's notifications, and reads each other one's row before handing it over.
 */
public final class PostgresApprovalStore implements ApprovalStore {

    private static final Logger logger = LoggerFactory.getLogger(PostgresApprovalStore.class);

    /** How long one wait for notifications lasts, so that closing is noticed. */
    private static final int WAIT_MS = 500;

    private final PostgresPool pool;
    private final Postgres.Settings settings;
    private final String channel;
    /** This store's mark on its notifications. */
    private final String origin = UUID.randomUUID().toString();
    @Nullable
    private volatile Thread follower;
    private volatile boolean closed;

    private PostgresApprovalStore(PostgresPool pool, Postgres.Settings settings, String channel) {
        this.pool = pool;
        this.settings = settings;
        this.channel = channel;
    }

    /**
     * Connects to the settings' database and migrates the approvals' schema.
     *
     * @throws IllegalStateException when the database cannot be reached or migrated
     */
    public static PostgresApprovalStore open(Postgres.Settings settings) {
        final PostgresPool pool = PostgresPool.open(settings, "evaos-approvals", SqliteApprovalStore.MIGRATIONS, "evaos",
                                                    "approvals", ApprovalRows.APPEND_ONLY);
        try {
            // One channel per schema: stacks sharing a database in different schemas do not hear each other.
            final String channel = "sonia.evaos.approvals." + pool.inTransaction(c -> {
                try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT current_schema()")) {
                    rs.next();
                    return rs.getString(1);
                }
            });
            return new PostgresApprovalStore(pool, settings, channel.substring(0, Math.min(63, channel.length())));
        } catch (RuntimeException e) {
            pool.close();
            throw new IllegalStateException("cannot open the approvals on " + settings + ": " + e.getMessage(), e);
        }
    }

    @Override
    public boolean insert(Approval a) {
        return pool.inTransaction(c -> {
            // Only the one-pending index may refuse it; a duplicate id still fails.
            if (Sql.update(c, ApprovalRows.INSERT + " ON CONFLICT (tenant, requester, action_hash, session_id) WHERE state = "
                          + ApprovalState.APPROVAL_STATE_PENDING_VALUE + " DO NOTHING", ApprovalRows.insertParams(a)) == 0) {
                return false;
            }
            notify(c, ApprovalChange.APPROVAL_CHANGE_CREATED, a.getApprovalId());
            return true;
        });
    }

    @Override
    public Optional<Approval> get(@Nullable String tenant, @Nullable String requester, String id) {
        final ApprovalRows.Where where = new ApprovalRows.Where(tenant, requester).and("id = ?", id);
        final List<Approval> found = query("SELECT * FROM approvals" + where.sql, where.params.toArray());
        return found.isEmpty() ? Optional.empty() : Optional.of(found.get(0));
    }

    @Override
    public List<Approval> byHash(String tenant, String requester, String actionHash) {
        return query(ApprovalRows.BY_HASH.formatted("seq"), actionHash, tenant, requester);
    }

    @Override
    public List<Approval> patternGrants(String tenant, String requester, String tool) {
        return query(ApprovalRows.PATTERN_GRANTS.formatted("seq"), tenant, requester, tool,
                     GrantScope.GRANT_SCOPE_PATTERN_VALUE, ApprovalState.APPROVAL_STATE_APPROVED_VALUE);
    }

    @Override
    public Page<Approval> list(@Nullable String tenant, @Nullable String requester, ApprovalState state,
                               List<String> after, int limit) {
        final ApprovalRows.Where where = ApprovalRows.listing(tenant, requester, state, after, limit, "seq");
        return pool.inTransaction(c -> {
            try (PreparedStatement ps = Sql.prepare(c, "SELECT * FROM approvals" + where.sql, where.params.toArray()); ResultSet rs = ps.executeQuery()) {
                return ApprovalRows.approvals(rs, limit);
            }
        });
    }

    @Override
    public Page<Decision> decisions(String tenant, List<String> after, int limit) {
        final long before = after.isEmpty() ? Long.MAX_VALUE : Long.parseLong(after.get(0));
        return pool.inTransaction(c -> {
            try (PreparedStatement ps = Sql.prepare(c,
                    "SELECT * FROM decisions WHERE tenant = ? AND seq < ? ORDER BY seq DESC LIMIT ?", tenant, before, limit + 1); ResultSet rs = ps.executeQuery()) {
                return ApprovalRows.decisions(rs, limit);
            }
        });
    }

    /**
     * Decides the approval if it is still pending, records the decision and notifies, in one transaction.
     * The conditional UPDATE takes the row's lock: a replica deciding at the same moment waits for this
     * commit, finds the row no longer pending and updates nothing.
     */
    @Override
    public boolean decide(String id, ApprovalState state, GrantScope scope, String pattern, String decidedBy,
                          long decideMs, long expireMs, String reason, long nowMs) {
        return pool.inTransaction(c -> {
            if (Sql.update(c, ApprovalRows.DECIDE, state.getNumber(), scope.getNumber(), pattern, decidedBy, decideMs,
                       expireMs, reason, id, nowMs) != 1) {
                return false;
            }
            Sql.update(c, ApprovalRows.RECORD_DECISION, id);
            notify(c, ApprovalChange.APPROVAL_CHANGE_DECIDED, id);
            return true;
        });
    }

    @Override
    public boolean consume(String id) {
        return pool.inTransaction(c -> Sql.update(c, ApprovalRows.CONSUME, id) == 1);
    }

    @Override
    public void countUse(String id) {
        pool.inTransaction(c -> Sql.update(c, ApprovalRows.COUNT_USE, id));
    }

    /** One statement expires what is due; of replicas sweeping at once, each row goes to exactly one. */
    @Override
    public List<Approval> expireDue(long nowMs) {
        return pool.inTransaction(c -> {
            final List<Approval> expired = Sql.query(
                    c, ApprovalRows::read, "UPDATE approvals SET state = ? WHERE state IN (?, ?) AND expire_ms <= ? RETURNING *",
                    ApprovalState.APPROVAL_STATE_EXPIRED_VALUE, ApprovalState.APPROVAL_STATE_PENDING_VALUE,
                    ApprovalState.APPROVAL_STATE_APPROVED_VALUE, nowMs);
            for (Approval a : expired) {
                notify(c, ApprovalChange.APPROVAL_CHANGE_EXPIRED, a.getApprovalId());
            }
            return expired;
        });
    }

    @Override
    public Optional<byte[]> response(String tenant, String requester, String requestId, long sinceMs) {
        return pool.inTransaction(c -> {
            try (PreparedStatement ps = Sql.prepare(c, ApprovalRows.RESPONSE, tenant, requester, requestId, sinceMs); ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(rs.getBytes(1)) : Optional.empty();
            }
        });
    }

    @Override
    public void rememberResponse(String tenant, String requester, String requestId, byte[] response, long nowMs,
                                 long forgetBeforeMs) {
        pool.inTransaction(c -> {
            Sql.update(c, ApprovalRows.FORGET_RESPONSES, forgetBeforeMs);
            return Sql.update(c, "INSERT INTO requests (tenant, requester, request_id, response, create_ms) "
                             + "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                          tenant, requester, requestId, response, nowMs);
        });
    }

    /**
     * Listens on the schema's channel (on a connection of its own, reconnecting when it drops) and hands
     * {@code listener} each change another store committed, read from its row.
     */
    @Override
    public synchronized void followOtherReplicas(BiConsumer<Approval, ApprovalChange> listener, Runnable lost) {
        if (follower != null) {
            throw new IllegalStateException("the approvals' changes are followed already");
        }
        final Connection first;
        try {
            first = listen();
        } catch (SQLException e) {
            throw new IllegalStateException("cannot follow the approvals' changes on " + settings + ": "
                                            + e.getMessage(), e);
        }
        final Thread thread = Threads.factory("evaos-approvals-follow").newThread(() -> follow(first, listener, lost));
        follower = thread;
        thread.start();
    }

    private Connection listen() throws SQLException {
        final Connection c = Postgres.connect(settings, "evaos-approvals-follow");
        try (Statement s = c.createStatement()) {
            s.execute("LISTEN \"" + channel.replace("\"", "\"\"") + '"');
        } catch (SQLException e) {
            c.close();
            throw e;
        }
        return c;
    }

    private void follow(Connection first, BiConsumer<Approval, ApprovalChange> listener, Runnable lost) {
        Connection c = first;
        boolean following = true;
        while (!closed) {
            try {
                if (c == null) {
                    c = listen();
                    following = true;
                    logger.info("following the approvals' changes on {} again", settings);
                }
                final PGNotification[] notifications = c.unwrap(PGConnection.class).getNotifications(WAIT_MS);
                for (PGNotification n : notifications == null ? new PGNotification[0] : notifications) {
                    handOver(n.getParameter(), listener);
                }
            } catch (SQLException | RuntimeException e) {
                if (closed) {
                    break;
                }
                close(c);
                c = null;
                if (following) {
                    // The changes committed until the next LISTEN would not reach this replica's watchers.
                    logger.warn("lost the approvals' change notifications on {}; ending the watches and "
                                + "reconnecting: {}", settings, e.getMessage());
                    following = false;
                    lost.run();
                }
                try {
                    Thread.sleep(WAIT_MS);
                } catch (InterruptedException interrupted) {
                    break;
                }
            }
        }
        close(c);
    }

    /** Reads and hands over the change of payload {@code origin change id}, unless this store made it. */
    private void handOver(String payload, BiConsumer<Approval, ApprovalChange> listener) {
        final String[] parts = payload.split(" ", 3);
        if (parts.length != 3 || parts[0].equals(origin) || !parts[1].matches("\\d{1,9}")) {
            return; // this store's own, or not a change of this store's (anyone may NOTIFY on a channel)
        }
        final ApprovalChange change = ApprovalChange.forNumber(Integer.parseInt(parts[1]));
        if (change == null) {
            return;
        }
        get(ANY_TENANT, ANY_REQUESTER, parts[2]).ifPresent(a -> listener.accept(a, change));
    }

    private static void close(@Nullable Connection c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (SQLException ignored) {
            // Already broken: nothing more to release.
        }
    }

    /** Sends the change's notification, delivered when (and only if) the transaction commits. */
    private void notify(Connection c, ApprovalChange change, String id) throws SQLException {
        Sql.query(c, rs -> null, "SELECT pg_notify(?, ?)", channel, origin + ' ' + change.getNumber() + ' ' + id);
    }

    private List<Approval> query(String sql, Object... params) {
        return pool.inTransaction(c -> Sql.query(c, ApprovalRows::read, sql, params));
    }

    @Override
    public void close() throws InterruptedException {
        closed = true;
        final Thread thread = follower;
        if (thread != null) {
            thread.join();
        }
        pool.close();
    }
}
