package ai.sonia.gateway.store;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.extension.RegisterExtension;

import ai.sonia.gateway.domain.AccountStore;
import ai.sonia.runtime.testing.EmbeddedPostgresExtension;

/** The PostgreSQL accounts against the contract the SQLite ones meet. */
class PostgresAccountStoreTest extends AccountStoreContract {

    @RegisterExtension
    static final EmbeddedPostgresExtension postgres = new EmbeddedPostgresExtension();

    private final PostgresStores stores = new PostgresStores(postgres);

    @Override
    protected AccountStore newStore() {
        return new PostgresAccountStore(stores.newDatabase());
    }

    @AfterEach
    void close() {
        stores.close();
    }
}
