package ai.sonia.router.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import ai.sonia.router.domain.Ledger;
import ai.sonia.router.domain.UsageScope;
import ai.sonia.runtime.store.Sqlite;
import ai.sonia.runtime.testing.TestHomes;

/** The SQLite ledger against the contract every ledger meets, and its upgrade of ledgers made before Flyway. */
class SqliteLedgerTest extends LedgerContract {

    /** The schema the router created itself before its migrations were Flyway's. */
    private static final String PRE_FLYWAY_SCHEMA = """
            CREATE TABLE IF NOT EXISTS usage (
              id INTEGER PRIMARY KEY AUTOINCREMENT, ts_ms INTEGER NOT NULL, day TEXT NOT NULL,
              tenant TEXT NOT NULL, principal TEXT NOT NULL, alias TEXT NOT NULL, deployment TEXT NOT NULL,
              provider TEXT NOT NULL, prompt_tokens INTEGER NOT NULL CHECK (prompt_tokens >= 0),
              completion_tokens INTEGER NOT NULL CHECK (completion_tokens >= 0),
              cost_micros INTEGER NOT NULL CHECK (cost_micros >= 0), latency_ms INTEGER NOT NULL);
            CREATE INDEX IF NOT EXISTS usage_tenant_day ON usage (tenant, day);
            CREATE INDEX IF NOT EXISTS usage_day ON usage (day);
            """;

    private final List<SqliteLedger> opened = new ArrayList<>();

    @Override
    protected Ledger newLedger() {
        return open(TestHomes.create("ledger"));
    }

    @AfterEach
    void closeAll() throws Exception {
        for (SqliteLedger ledger : opened) {
            ledger.close();
        }
    }

    @Test
    void aLedgerMadeBeforeFlywayIsUpgradedInPlaceWithItsRows() throws Exception {
        final Path directory = TestHomes.create("legacy-ledger");
        try (Connection old = Sqlite.open(directory.resolve("usage.db"));
             Statement s = old.createStatement()) {
            s.executeUpdate(PRE_FLYWAY_SCHEMA);
            s.executeUpdate("INSERT INTO usage (ts_ms, day, tenant, principal, alias, deployment, provider,"
                            + " prompt_tokens, completion_tokens, cost_micros, latency_ms)"
                            + " VALUES (1, '" + TODAY + "', 'acme', 'alice', 'default', 'gpt', 'openai', 10, 5, 7, 3)");
        }

        final SqliteLedger ledger = open(directory);
        ledger.record(row(0, "acme", "bob", "gpt", 1, 1, 1));
        assertThat(ledger.chargedSince("acme", TODAY)).isEqualTo(new Ledger.Charged(17, 8));
        assertThat(all(ledger, new UsageScope("acme", ""), "", "").total().requests()).isEqualTo(2);
        ledger.close();
        opened.remove(ledger);

        // Adopted at the baseline (0), then V1 ran (creating nothing that was there); opening again applies
        // nothing and keeps every row.
        final List<String> versions = new ArrayList<>();
        try (Connection c = Sqlite.open(directory.resolve("usage.db"));
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT version FROM flyway_db_router_ledger WHERE success"
                                           + " ORDER BY installed_rank")) {
            while (rs.next()) {
                versions.add(rs.getString(1));
            }
        }
        assertThat(versions).containsExactly("0", "1");
        assertThat(open(directory).chargedSince("acme", TODAY)).isEqualTo(new Ledger.Charged(17, 8));
    }

    private SqliteLedger open(Path directory) {
        final SqliteLedger ledger = SqliteLedger.open(directory);
        opened.add(ledger);
        return ledger;
    }
}
