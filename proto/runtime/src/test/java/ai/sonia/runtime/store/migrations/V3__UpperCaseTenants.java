package ai.sonia.runtime.store.migrations;

import java.sql.Statement;

import org.flywaydb.core.api.migration.BaseJavaMigration;
import org.flywaydb.core.api.migration.Context;

/** A Java migration of the test store "db/test/notes": what SQL could say too, to show the two mix. */
public class V3__UpperCaseTenants extends BaseJavaMigration {
    @Override
    public void migrate(Context context) throws Exception {
        try (Statement statement = context.getConnection().createStatement()) {
            statement.execute("UPDATE notes SET tenant = upper(tenant)");
        }
    }
}
