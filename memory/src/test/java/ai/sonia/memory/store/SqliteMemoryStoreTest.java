package ai.sonia.memory.store;

import java.nio.file.Path;

import ai.sonia.memory.domain.MemoryStore;

class SqliteMemoryStoreTest extends MemoryStoreContract {

    static SqliteMemoryStore newSqliteStore() {
        return SqliteMemoryStore.open(Path.of("target", "store-contract", "memory-" + System.nanoTime(), "memory.db")
                                          .toAbsolutePath(), 2, false);
    }

    @Override
    protected MemoryStore newStore() {
        return newSqliteStore();
    }
}
