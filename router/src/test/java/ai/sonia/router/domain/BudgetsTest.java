package ai.sonia.router.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.util.Map;

import org.junit.jupiter.api.Test;

import ai.sonia.router.store.SqliteLedger;
import ai.sonia.runtime.testing.TestHomes;

class BudgetsTest {

    @Test
    void aLedgerWriteThatFailsGivesTheReservationBackOnce() throws Exception {
        final SqliteLedger ledger = SqliteLedger.open(TestHomes.create("budgets"));
        final Budgets budgets = new Budgets(new BudgetLimits(1_000, 0), Map.of(), 50, ledger, Clock.systemUTC());
        final Budgets.Reservation reservation = budgets.reserve("acme", 100, 0);
        assertThat(budgets.state("acme").reservedTokens()).isEqualTo(100);

        ledger.close(); // every write fails from now on
        assertThatThrownBy(() -> budgets.settle(reservation, new UsageRecord(
                System.currentTimeMillis(), "acme", "alice", "default", "gpt", "openai", 40, 10, 0, 5)))
                .isInstanceOf(IllegalStateException.class);
        assertThat(budgets.state("acme").reservedTokens()).isZero();
        assertThat(budgets.state("acme").spentTokens()).isZero();

        budgets.release(reservation); // what the router does after any failure: no second give-back
        assertThat(budgets.state("acme").reservedTokens()).isZero();
        assertThat(budgets.reserve("acme", 1_000, 0).tenant()).isEqualTo("acme");
    }
}
