package ai.sonia.evaos.store;

import java.sql.Connection;
import java.sql.Statement;

import org.junit.jupiter.api.extension.RegisterExtension;

import ai.sonia.evaos.domain.TrainingLocks;
import ai.sonia.runtime.testing.EmbeddedPostgresExtension;

/** The PostgreSQL training locks against the contract, each test on emptied tables of the class's schema. */
class PostgresTrainingLocksTest extends TrainingLocksContract {

    @RegisterExtension
    static final EmbeddedPostgresExtension postgres = new EmbeddedPostgresExtension();

    @Override
    protected TrainingLocks newStore() {
        final PostgresTrainingLocks locks = PostgresTrainingLocks.open(postgres.settings(2));
        try (Connection c = postgres.connection();
             Statement s = c.createStatement()) {
            s.execute("TRUNCATE training_locks");
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        return locks;
    }
}
