package ai.sonia.evaos.store.migrations;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.Map;

import org.flywaydb.core.api.migration.BaseJavaMigration;
import org.flywaydb.core.api.migration.Context;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.util.JsonFormat;

import ai.sonia.evaos.domain.CanonicalJson;

/**
 * Tenants: every approval gets a tenant and a requester; rows from before become tenant "default", requester
 * "local" (the one user the stack had; V3 says that owner is unknown), and their action hashes are recomputed
 * with the tenant in them, which SQL cannot do.
 */
public final class V2__Tenants extends BaseJavaMigration {

    static final String DEFAULT_TENANT = "default";

    @Override
    public void migrate(Context context) throws SQLException {
        final Connection connection = context.getConnection();
        final Map<String, String> hashes = new LinkedHashMap<>();
        try (Statement s = connection.createStatement()) {
            s.execute("ALTER TABLE approvals ADD COLUMN tenant TEXT NOT NULL DEFAULT '" + DEFAULT_TENANT + "'");
            s.execute("ALTER TABLE approvals ADD COLUMN requester TEXT NOT NULL DEFAULT 'local'");
            s.execute("DROP INDEX IF EXISTS approvals_tool");
            try (ResultSet rs = s.executeQuery("SELECT id, tool, arguments, working_directory FROM approvals")) {
                while (rs.next()) {
                    hashes.put(rs.getString(1), CanonicalJson.actionHash(
                            DEFAULT_TENANT, rs.getString(2), struct(rs.getString(1), rs.getString(3)),
                            rs.getString(4)));
                }
            }
        }
        try (PreparedStatement ps = connection.prepareStatement("UPDATE approvals SET action_hash = ? WHERE id = ?")) {
            for (Map.Entry<String, String> e : hashes.entrySet()) {
                ps.setString(1, e.getValue());
                ps.setString(2, e.getKey());
                ps.addBatch();
            }
            ps.executeBatch();
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
}
