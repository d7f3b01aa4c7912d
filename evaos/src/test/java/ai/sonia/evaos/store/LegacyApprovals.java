package ai.sonia.evaos.store;

/** The approvals table as the code before Flyway made it: where every test of an old file starts. */
public final class LegacyApprovals {

    private LegacyApprovals() {}

    /** The table before tenants, with {@code moreColumns} (", name TYPE ...") added at its end. */
    public static String table(String moreColumns) {
        return """
                CREATE TABLE approvals (
                  id TEXT PRIMARY KEY, state INTEGER NOT NULL, tool TEXT NOT NULL, arguments TEXT NOT NULL,
                  working_directory TEXT NOT NULL, action_hash TEXT NOT NULL, risk INTEGER NOT NULL,
                  rule TEXT NOT NULL, grant_scope INTEGER NOT NULL, pattern TEXT NOT NULL,
                  session_id TEXT NOT NULL, requested_by TEXT NOT NULL, decided_by TEXT NOT NULL,
                  create_ms INTEGER NOT NULL, decide_ms INTEGER NOT NULL, expire_ms INTEGER NOT NULL,
                  reason TEXT NOT NULL, use_count INTEGER NOT NULL""" + moreColumns + ")";
    }
}
