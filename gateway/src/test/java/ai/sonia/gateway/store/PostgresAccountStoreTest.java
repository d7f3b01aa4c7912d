package ai.sonia.gateway.store;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.extension.RegisterExtension;

import ai.sonia.gateway.domain.AccountStore;
import ai.sonia.runtime.testing.EmbeddedPostgresExtension;

/** The PostgreSQL accounts against the contract the SQLite ones meet. */
class PostgresAccountStoreTest extends AccountStoreContract {

    @RegisterExtension
    static final EmbeddedPostgresExtension postgres = new EmbeddedPostgresExtension();

    private PostgresAccountStore store;

    @Override
    protected AccountStore newStore() {
        store = PostgresAccountStore.open(postgres.settings());
        // The schema is the class's: each test starts from empty tables.
        try (Connection c = DriverManager.getConnection(postgres.url(), "postgres", "unused");
             Statement s = c.createStatement()) {
            s.execute("TRUNCATE tenants, users, sessions, refresh_tokens, api_keys, request_ids");
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        return store;
    }

    @AfterEach
    void close() {
        store.close();
    }
}
