package ai.sonia.memory.store;

import java.util.ArrayList;
import java.util.List;

import ai.sonia.runtime.testing.EmbeddedPostgresExtension;

/** Memory ledgers on the test class's PostgreSQL schema: emptied for each test, closed after it. */
final class PostgresLedgers implements AutoCloseable {

    private final EmbeddedPostgresExtension postgres;
    private final List<PostgresMemoryStore> open = new ArrayList<>();

    PostgresLedgers(EmbeddedPostgresExtension postgres) {
        this.postgres = postgres;
    }

    /** The class's ledger (migrated), with every table emptied. */
    PostgresMemoryStore emptied() {
        final PostgresMemoryStore store = another();
        postgres.executeWithoutTriggers("TRUNCATE memories, memory_metadata, memory_vectors, audit_records, store_requests,"
                                        + " memory_changes, memory_index_outbox");
        return store;
    }

    /** Another store on the same database: a second replica. */
    PostgresMemoryStore another() {
        return another(false);
    }

    /** Another store on the same database, keeping the outbox of a shared search index when {@code outbox}. */
    PostgresMemoryStore another(boolean outbox) {
        final PostgresMemoryStore store = PostgresMemoryStore.open(postgres.settings(4), outbox);
        open.add(store);
        return store;
    }

    @Override
    public void close() {
        open.forEach(PostgresMemoryStore::close);
        open.clear();
    }
}
