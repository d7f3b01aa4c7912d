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
 * Brings an approvals file from before tenants up to date, in one transaction: its rows become tenant
 * "default", requester "local" (the one user the stack had), and their action hashes are recomputed with
 * the tenant in them, so the grants they hold keep allowing exactly the actions they allowed.
 */
final class TenantMigration {

    static final String DEFAULT_TENANT = "default";
    static final String DEFAULT_USER = "local";

    static void apply(Connection connection) throws SQLException {
        if (hasColumn(connection, "tenant")) {
            return;
        }
        final boolean autoCommit = connection.getAutoCommit();
        connection.setAutoCommit(false);
        try (Statement s = connection.createStatement()) {
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
            connection.commit();
        } catch (SQLException | RuntimeException e) {
            connection.rollback();
            throw e;
        } finally {
            connection.setAutoCommit(autoCommit);
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
