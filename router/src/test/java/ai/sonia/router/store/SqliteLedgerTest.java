package ai.sonia.router.store;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;

import ai.sonia.router.domain.Ledger;
import ai.sonia.runtime.testing.TestHomes;

/** The SQLite ledger against the contract every ledger meets. */
class SqliteLedgerTest extends LedgerContract {

    private final List<SqliteLedger> opened = new ArrayList<>();

    @Override
    protected Ledger newLedger() {
        final SqliteLedger ledger = SqliteLedger.open(TestHomes.create("ledger"));
        opened.add(ledger);
        return ledger;
    }

    @AfterEach
    void closeAll() throws Exception {
        for (SqliteLedger ledger : opened) {
            ledger.close();
        }
    }
}
