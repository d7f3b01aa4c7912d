package ai.sonia.evaos.store;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Optional;

import ai.sonia.evaos.domain.TrainingLocks;
import ai.sonia.runtime.store.Migrations;
import ai.sonia.runtime.store.Sqlite;
import ai.sonia.runtime.store.StoreHealth;

/**
 * Training locks in SQLite (WAL, every commit synced) under {@code dataDir("evaos")}: one row per locked
 * tenant. Expired rows are filtered out on every read and deleted when their tenant is written again.
 */
public final class SqliteTrainingLocks implements TrainingLocks {

    private final Connection connection;
    private final StoreHealth health;

    public SqliteTrainingLocks(Path file) {
        try {
            connection = Sqlite.open(file, "synchronous = FULL");
            Migrations.migrate(connection, "db/evaos/training");
        } catch (SQLException e) {
            throw new IllegalStateException("cannot open training locks " + file, e);
        }
        health = new StoreHealth(file);
    }

    @Override
    public synchronized void enable(Lock lock) {
        try (PreparedStatement ps = connection.prepareStatement(
                "INSERT OR REPLACE INTO training_locks (tenant, reason, enabled_by, since_ms, expire_ms) "
                + "VALUES (?, ?, ?, ?, ?)")) {
            ps.setString(1, lock.tenant());
            ps.setString(2, lock.reason());
            ps.setString(3, lock.enabledBy());
            ps.setLong(4, lock.since().toEpochMilli());
            ps.setLong(5, lock.expiresAt().toEpochMilli());
            ps.executeUpdate();
        } catch (SQLException e) {
            throw health.unavailableOr(e, new IllegalStateException("cannot store a training lock", e));
        }
    }

    @Override
    public synchronized Optional<Lock> disable(String tenant, Instant now) {
        final Optional<Lock> held = get(tenant, now);
        try (PreparedStatement ps = connection.prepareStatement("DELETE FROM training_locks WHERE tenant = ?")) {
            ps.setString(1, tenant);
            ps.executeUpdate();
        } catch (SQLException e) {
            throw health.unavailableOr(e, new IllegalStateException("cannot lift a training lock", e));
        }
        return held;
    }

    @Override
    public synchronized Optional<Lock> get(String tenant, Instant now) {
        try (PreparedStatement ps = connection.prepareStatement(
                "SELECT reason, enabled_by, since_ms, expire_ms FROM training_locks "
                + "WHERE tenant = ? AND expire_ms > ?")) {
            ps.setString(1, tenant);
            ps.setLong(2, now.toEpochMilli());
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                return Optional.of(new Lock(tenant, rs.getString(1), rs.getString(2),
                                            Instant.ofEpochMilli(rs.getLong(3)), Instant.ofEpochMilli(rs.getLong(4))));
            }
        } catch (SQLException e) {
            throw health.unavailableOr(e, new IllegalStateException("cannot read training locks", e));
        }
    }

    @Override
    public synchronized int countLocked(Instant now) {
        try (PreparedStatement ps = connection.prepareStatement(
                "SELECT count(*) FROM training_locks WHERE expire_ms > ?")) {
            ps.setLong(1, now.toEpochMilli());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getInt(1) : 0;
            }
        } catch (SQLException e) {
            throw health.unavailableOr(e, new IllegalStateException("cannot read training locks", e));
        }
    }

    @Override
    public synchronized void close() throws SQLException {
        health.close();
        connection.close();
    }
}
