package ai.sonia.evaos.store;

import java.nio.file.Path;
import java.util.UUID;

import ai.sonia.evaos.domain.TrainingLocks;

/** The SQLite training locks against the contract, on a fresh file under target/. */
class SqliteTrainingLocksTest extends TrainingLocksContract {

    @Override
    protected TrainingLocks newStore() {
        return new SqliteTrainingLocks(Path.of("target", "training-locks-" + UUID.randomUUID(), "training.db"));
    }
}
