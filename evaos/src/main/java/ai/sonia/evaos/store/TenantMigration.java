package ai.sonia.evaos.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.Map;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.util.JsonFormat;

import ai.sonia.evaos.domain.CanonicalJson;

/**
 * Brings an approvals file from before tenants and owners up to date, each step in one transaction.
 *
 * <p>Tenants: rows become tenant "default", requester "local" (the one user the stack had), and their action
 * hashes are recomputed with the tenant in them.
 *
 * <p>Owners (schema version 1 in {@code PRAGMA user_version}), since an approval is its requester's: rows
 * with the placeholder requester "local" have no known owner, so their requester becomes empty
 * ({@link #UNKNOWN_OWNER}), which no principal is. An admin of the tenant still sees them; no plain user
 * does, and their grants allow nobody's action. Rows written since tenants already name their requester
 * (the user or API key id of the credential) and stay as they are.
 */
final class TenantMigration {

    static final String DEFAULT_TENANT = "default";
    static final String DEFAULT_USER = "local";
    /** The requester of a row whose owner is not known. */
    static final String UNKNOWN_OWNER = "";

    private static final int OWNERS_VERSION = 1;

    static void apply(Connection connection) throws SQLException {
        if (!hasColumn(connection, "tenant")) {
            inTransaction(connection, TenantMigration::tenants);
        }
        if (userVersion(connection) < OWNERS_VERSION) {
            inTransaction(connection, s -> {
                s.executeUpdate("UPDATE approvals SET requester = '" + UNKNOWN_OWNER + "' WHERE requester = '"
                                + DEFAULT_USER + '\'');
                s.execute("PRAGMA user_version = " + OWNERS_VERSION);
            });
        }
    }

    private interface Step {
        void run(Statement s) throws SQLException;
    }

    private static void inTransaction(Connection connection, Step step) throws SQLException {
        final boolean autoCommit = connection.getAutoCommit();
        connection.setAutoCommit(false);
        try (Statement s = connection.createStatement()) {
            step.run(s);
            connection.commit();
        } catch (SQLException | RuntimeException e) {
            connection.rollback();
            throw e;
        } finally {
            connection.setAutoCommit(autoCommit);
        }
    }

    private static int userVersion(Connection connection) throws SQLException {
        try (Statement s = connection.createStatement(); ResultSet rs = s.executeQuery("PRAGMA user_version")) {
            return rs.next() ? rs.getInt(1) : 0;
        }
    }

    private static void tenants(Statement s) throws SQLException {
        final Connection connection = s.getConnection();
        s.execute("ALTER TABLE approvals ADD COLUMN tenant TEXT NOT NULL DEFAULT '" + DEFAULT_TENANT + "'");
        s.execute("ALTER TABLE approvals ADD COLUMN requester TEXT NOT NULL DEFAULT '" + DEFAULT_USER + "'");
        s.execute("DROP INDEX IF EXISTS approvals_tool");
        final Map<String, String> hashes = new LinkedHashMap<>();
        try (ResultSet rs = s.executeQuery("SELECT id, tool, arguments, working_directory FROM approvals")) {
            while (rs.next()) {
                hashes.put(rs.getString(1), CanonicalJson.actionHash(
                        DEFAULT_TENANT, rs.getString(2), struct(rs.getString(1), rs.getString(3)),
                        rs.getString(4)));
            }
        }
        try (PreparedStatement ps = connection.prepareStatement(
                "UPDATE approvals SET action_hash = ? WHERE id = ?")) {
            for (Map.Entry<String, String> e : hashes.entrySet()) {
                ps.setString(1, e.getValue());
                ps.setString(2, e.getKey());
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    private static boolean hasColumn(Connection connection, String column) throws SQLException {
        try (Statement s = connection.createStatement();
             ResultSet rs = s.executeQuery("PRAGMA table_info(approvals)")) {
            while (rs.next()) {
                if (rs.getString("name").equals(column)) {
                    return true;
                }
            }
            return false;
        }
    }

    private static Struct struct(String id, String json) {
        final Struct.Builder b = Struct.newBuilder();
        try {
            JsonFormat.parser().merge(json, b);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("corrupt arguments in approval " + id, e);
        }
        return b.build();
    }

    private TenantMigration() {}
}
