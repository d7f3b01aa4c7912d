package ai.sonia.pipecat.store;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashSet;
import java.util.Set;

/**
 * Gives the sessions of a database written before sessions had owners their owner columns. Those sessions
 * belonged to the one user the stack had then: tenant "default", user "local". Each column is added on its
 * own, so a start interrupted between the two finishes the job the next time.
 */
final class OwnerMigration {

    static final String LEGACY_TENANT = "default";
    static final String LEGACY_USER = "local";

    static void apply(Connection connection) throws SQLException {
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
        }
    }

    private OwnerMigration() {}
}
