package ai.sonia.gateway.store;

import org.junit.jupiter.api.AfterEach;

import ai.sonia.gateway.domain.AccountStore;

class SqliteAccountStoreTest extends AccountStoreContract {

    private final SqliteStores stores = new SqliteStores();

    @Override
    protected AccountStore newStore() {
        return new SqliteAccountStore(stores.newDatabase());
    }

    @AfterEach
    void close() {
        stores.close();
    }
}
