package ai.sonia.router.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import ai.sonia.router.domain.BudgetLimits;
import ai.sonia.router.domain.Ledger;
import ai.sonia.router.domain.UsageScope;
import ai.sonia.runtime.testing.EmbeddedPostgresExtension;

/**
 * The PostgreSQL ledger against the contract every ledger meets, and what only a shared engine has to show:
 * two ledgers on one database (two router replicas) whose budget checks never let a tenant overspend.
 */
class PostgresLedgerTest extends LedgerContract {

    @RegisterExtension
    static final EmbeddedPostgresExtension postgres = new EmbeddedPostgresExtension();

    private final List<PostgresLedger> opened = new ArrayList<>();

    @Override
    protected Ledger newLedger() {
        emptyTables();
        return open();
    }

    @AfterEach
    void closeAll() {
        opened.forEach(PostgresLedger::close);
    }

    @Test
    void twoReplicasOnOneDatabaseNeverOverspendABudget() throws Exception {
        final PostgresLedger a = (PostgresLedger) newLedger();
        final PostgresLedger b = open();
        final BudgetLimits limits = new BudgetLimits(0, 100 * 3 + 2); // room for exactly 100 rows costing 3
        final AtomicInteger written = new AtomicInteger();
        runConcurrently(8, thread -> {
            final Ledger replica = thread % 2 == 0 ? a : b;
            while (replica.recordWithin(row(0, "acme", "user-" + thread, "gpt", 1, 1, 3), limits)) {
                written.incrementAndGet();
            }
            replica.record(row(0, "globex", "g", "gpt", 1, 1, 1)); // group-committed beside the checks
        });
        assertThat(written.get()).isEqualTo(100);
        for (Ledger replica : List.of(a, b)) {
            assertThat(replica.chargedSince("acme", TODAY)).isEqualTo(new Ledger.Charged(200, 300));
            assertThat(all(replica, new UsageScope("", ""), "", "").total().requests()).isEqualTo(108);
        }
        assertThat(b.recordWithin(row(0, "acme", "u", "gpt", 0, 0, 2), limits)).isTrue();
        assertThat(a.recordWithin(row(0, "acme", "u", "gpt", 0, 0, 1), limits)).isFalse();
    }

    @Test
    void anUnreachableDatabaseFailsTheStartNamingIt() {
        EmbeddedPostgresExtension.assertFailsClosed(
                () -> PostgresLedger.open(EmbeddedPostgresExtension.unreachableSettings()));
    }

    @Test
    void aDatabaseLostAfterTheStartIsUnavailableNotInternal() {
        try (EmbeddedPostgresExtension.Relay relay = postgres.relay();
             PostgresLedger ledger = PostgresLedger.open(relay.settings())) {
            ledger.record(row(0, "acme", "u", "gpt", 1, 1, 1));
            relay.cut();
            // One call: the next ones would wait for the pool's connection timeout (5 s) to say the same.
            EmbeddedPostgresExtension.assertUnavailable(
                    () -> ledger.recordWithin(row(0, "acme", "u", "gpt", 1, 1, 1), new BudgetLimits(0, 0)));
        }
    }

    private PostgresLedger open() {
        final PostgresLedger ledger = PostgresLedger.open(postgres.settings(4));
        opened.add(ledger);
        return ledger;
    }

    /** The contract wants an empty ledger per test; the schema is the class's, so its tables are emptied. */
    private static void emptyTables() {
        postgres.execute("DO $$ BEGIN IF to_regclass('usage') IS NOT NULL THEN TRUNCATE usage, usage_month; END IF; END $$");
    }
}
