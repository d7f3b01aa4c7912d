package ai.sonia.gateway.store;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import ai.sonia.runtime.testing.TestHomes;

/** Fresh accounts databases under {@code target/}, closed after each test. */
final class SqliteStores implements AutoCloseable {

    private final List<SqliteDatabase> open = new ArrayList<>();

    SqliteDatabase newDatabase() {
        return open(TestHomes.create("accounts-store").resolve("accounts.db"));
    }

    SqliteDatabase open(Path file) {
        final SqliteDatabase db = SqliteDatabase.open(file);
        open.add(db);
        return db;
    }

    @Override
    public void close() {
        open.forEach(SqliteDatabase::close);
        open.clear();
    }
}
