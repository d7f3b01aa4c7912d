package ai.sonia.pipecat.store.migrations;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashSet;
import java.util.Set;

import org.flywaydb.core.api.migration.BaseJavaMigration;
import org.flywaydb.core.api.migration.Context;

/**
 * Gives the sessions of a database written before sessions had owners their owner columns. Those sessions
 * belonged to the one user the stack had then: tenant "default", user "local". A database made since has
 * the columns already (V1 creates them): SQL cannot add a column only when it is missing, hence Java.
 */
public final class V2__SessionOwners extends BaseJavaMigration {

    static final String LEGACY_TENANT = "default";
    static final String LEGACY_USER = "local";

    @Override
    public void migrate(Context context) throws SQLException {
        final Connection connection = context.getConnection();
        final Set<String> columns = new HashSet<>();
        try (Statement st = connection.createStatement();
             ResultSet rs = st.executeQuery("PRAGMA table_info(sessions)")) {
            while (rs.next()) {
                columns.add(rs.getString("name"));
            }
        }
        try (Statement st = connection.createStatement()) {
            if (!columns.contains("tenant")) {
                st.execute("ALTER TABLE sessions ADD COLUMN tenant TEXT NOT NULL DEFAULT '" + LEGACY_TENANT + '\'');
            }
            if (!columns.contains("user_id")) {
                st.execute("ALTER TABLE sessions ADD COLUMN user_id TEXT NOT NULL DEFAULT '" + LEGACY_USER + '\'');
            }
            st.execute("CREATE INDEX IF NOT EXISTS sessions_by_owner"
                       + " ON sessions (tenant, user_id, create_ms DESC, session_id DESC)");
        }
    }
}
