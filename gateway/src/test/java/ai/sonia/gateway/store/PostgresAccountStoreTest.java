package ai.sonia.gateway.store;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import ai.sonia.gateway.domain.AccountStore;
import ai.sonia.runtime.store.PostgresPool;
import ai.sonia.runtime.testing.EmbeddedPostgresExtension;

/** The PostgreSQL accounts against the contract the SQLite ones meet, and UNAVAILABLE when PostgreSQL is lost. */
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

    @Test
    void aDatabaseLostAfterTheStartIsUnavailableNotInternal() {
        try (EmbeddedPostgresExtension.Relay relay = postgres.relay();
             PostgresPool db = PostgresDatabase.open(relay.settings())) {
            final AccountStore accounts = new PostgresAccountStore(db);
            accounts.countUsers();
            relay.cut();
            // One call: the next ones would wait for the pool's connection timeout (5 s) to say the same.
            EmbeddedPostgresExtension.assertUnavailable(() -> accounts.userByName("alice"));
        }
    }
}
