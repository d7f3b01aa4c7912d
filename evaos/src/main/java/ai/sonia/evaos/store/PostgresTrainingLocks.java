package ai.sonia.evaos.store;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Optional;

import ai.sonia.evaos.domain.TrainingLocks;
import ai.sonia.runtime.store.Postgres;
import ai.sonia.runtime.store.PostgresPool;
import ai.sonia.runtime.store.Sql;

/**
 * Training locks on PostgreSQL (with {@code store.engine} postgres and no Redis as {@code shared.engine}), shared
 * by every evaos replica: the same rows as {@link SqliteTrainingLocks}, schema by the Flyway SQL of
 * {@code db/postgresql/evaos/training}. Expired rows read as off and are replaced or removed when their tenant
 * is written again; lifting a lock is one {@code DELETE ... RETURNING}.
 */
public final class PostgresTrainingLocks implements TrainingLocks {

    private static final String MIGRATIONS = "db/evaos/training";

    private final PostgresPool pool;

    private PostgresTrainingLocks(PostgresPool pool) {
        this.pool = pool;
    }

    /**
     * Connects to the settings' database and migrates the locks' schema.
     *
     * @throws IllegalStateException when the database cannot be reached or migrated
     */
    public static PostgresTrainingLocks open(Postgres.Settings settings) {
        return new PostgresTrainingLocks(PostgresPool.open(settings, "evaos-training", MIGRATIONS, "evaos", "training locks"));
    }

    @Override
    public void enable(Lock lock) {
        pool.inTransaction(c -> Sql.update(
                c, "INSERT INTO training_locks (tenant, reason, enabled_by, since_ms, expire_ms) VALUES (?, ?, ?, ?, ?)"
                   + " ON CONFLICT (tenant) DO UPDATE SET reason = EXCLUDED.reason, enabled_by = EXCLUDED.enabled_by,"
                   + " since_ms = EXCLUDED.since_ms, expire_ms = EXCLUDED.expire_ms",
                lock.tenant(), lock.reason(), lock.enabledBy(), lock.since().toEpochMilli(), lock.expiresAt().toEpochMilli()));
    }

    @Override
    public Optional<Lock> disable(String tenant, Instant now) {
        return pool.inTransaction(c -> {
            try (PreparedStatement ps = Sql.prepare(c,
                    "DELETE FROM training_locks WHERE tenant = ? RETURNING reason, enabled_by, since_ms, expire_ms", tenant); ResultSet rs = ps.executeQuery()) {
                return lock(tenant, rs).filter(l -> l.expiresAt().isAfter(now));
            }
        });
    }

    @Override
    public Optional<Lock> get(String tenant, Instant now) {
        return pool.inTransaction(c -> {
            try (PreparedStatement ps = Sql.prepare(c,
                    "SELECT reason, enabled_by, since_ms, expire_ms FROM training_locks WHERE tenant = ? AND expire_ms > ?", tenant, now.toEpochMilli()); ResultSet rs = ps.executeQuery()) {
                return lock(tenant, rs);
            }
        });
    }

    @Override
    public int countLocked(Instant now) {
        return pool.inTransaction(c -> {
            try (PreparedStatement ps = Sql.prepare(c, "SELECT count(*) FROM training_locks WHERE expire_ms > ?", now.toEpochMilli()); ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getInt(1) : 0;
            }
        });
    }

    private static Optional<Lock> lock(String tenant, ResultSet rs) throws SQLException {
        if (!rs.next()) {
            return Optional.empty();
        }
        return Optional.of(new Lock(tenant, rs.getString(1), rs.getString(2), Instant.ofEpochMilli(rs.getLong(3)),
                                    Instant.ofEpochMilli(rs.getLong(4))));
    }

    @Override
    public void close() {
        pool.close();
    }
}
