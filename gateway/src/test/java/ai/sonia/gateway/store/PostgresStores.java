package ai.sonia.gateway.store;

import java.util.ArrayList;
import java.util.List;

import ai.sonia.runtime.store.PostgresPool;
import ai.sonia.runtime.testing.EmbeddedPostgresExtension;

/** Accounts databases on the test class's PostgreSQL schema, emptied for each test and closed after it. */
final class PostgresStores implements AutoCloseable {

    private final EmbeddedPostgresExtension postgres;
    private final List<PostgresPool> open = new ArrayList<>();

    PostgresStores(EmbeddedPostgresExtension postgres) {
        this.postgres = postgres;
    }

    /** The class's accounts database (migrated), with every table emptied. */
    PostgresPool newDatabase() {
        final PostgresPool db = PostgresDatabase.open(postgres.settings());
        open.add(db);
        postgres.executeWithoutTriggers("TRUNCATE tenants, users, sessions, refresh_tokens, api_keys, request_ids, audit_events");
        return db;
    }

    @Override
    public void close() {
        open.forEach(PostgresPool::close);
        open.clear();
    }
}
