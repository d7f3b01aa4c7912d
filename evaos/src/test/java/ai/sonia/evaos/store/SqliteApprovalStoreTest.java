package ai.sonia.evaos.store;

import java.nio.file.Path;
import java.util.UUID;

import ai.sonia.evaos.domain.ApprovalStore;

/** The SQLite approval store against the contract, on a fresh file under target/. */
class SqliteApprovalStoreTest extends ApprovalStoreContract {

    @Override
    protected ApprovalStore newStore() {
        return new SqliteApprovalStore(Path.of("target", "approval-store-" + UUID.randomUUID(), "approvals.db"));
    }
}
