package ai.sonia.memory.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import java.nio.file.Path;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import ai.sonia.common.v1.ErrorCode;
import ai.sonia.memory.domain.IndexLoader;
import ai.sonia.memory.domain.LedgerView;
import ai.sonia.memory.domain.MemoryStore;
import ai.sonia.memory.domain.MemoryStore.Change;
import ai.sonia.memory.domain.MemoryStore.Changes;
import ai.sonia.memory.domain.MemoryStore.Stored;
import ai.sonia.memory.domain.VectorIndex;
import ai.sonia.memory.v1.AuditAction;
import ai.sonia.memory.v1.AuditRecord;
import ai.sonia.memory.v1.MemoryState;
import ai.sonia.runtime.errors.DomainException;
import ai.sonia.runtime.store.Postgres;
import ai.sonia.runtime.testing.EmbeddedPostgresExtension;

/**
 * The PostgreSQL ledger against the contract every memory store meets, and what only a shared engine has to
 * show: two stores on one database (two memory replicas) change one memory exactly once, and each one's
 * change feed carries what the other wrote, including a write that commits after a later one.
 */
class PostgresMemoryStoreTest extends MemoryStoreContract {

    @RegisterExtension
    static final EmbeddedPostgresExtension postgres = new EmbeddedPostgresExtension();

    private static final long NOW = 1_700_000_000_000L;

    private final PostgresLedgers ledgers = new PostgresLedgers(postgres);

    @Override
    protected MemoryStore newStore() {
        return ledgers.emptied();
    }

    @AfterEach
    void closeAll() {
        ledgers.close();
    }

    @Test
    void theIndexOutboxIsDrainedByOneReplicaAtATimeInOrderAndKeptWhenTheIndexFails() {
        final MemoryStore a = ledgers.another(true);
        final MemoryStore b = ledgers.another(true);
        final String kept = a.store(memory(scope("outbox", "ann"), "Ann keeps bees."), ACTOR, NOW).row().memory()
                             .getName();
        final Stored gone = b.store(memory(scope("outbox", "ann"), "Ann has a cat."), ACTOR, NOW);
        a.forget(gone.row().memory().getName(), "asked", ACTOR, NOW + 1);

        // The index refuses: nothing is dropped.
        assertThatThrownBy(() -> b.drainIndexOutbox(10, writes -> {
            throw new IllegalStateException("the index is down");
        })).hasMessageContaining("down");

        final List<Change> applied = new ArrayList<>();
        final int[] other = new int[1];
        assertThat(a.drainIndexOutbox(10, writes -> {
            other[0] = b.drainIndexOutbox(10, more -> applied.add(null));
            applied.addAll(writes);
        })).isEqualTo(3);
        assertThat(other[0]).as("the other replica waits its turn").isEqualTo(-1);
        // The memory forgotten since is owed as a removal in both places: never added back.
        assertThat(applied).extracting(Change::kind, Change::id, Change::text).containsExactly(
                tuple(Change.Kind.ADD, a.byName(kept, NOW).orElseThrow().id(), "Ann keeps bees."),
                tuple(Change.Kind.REMOVE, gone.row().id(), ""),
                tuple(Change.Kind.REMOVE, gone.row().id(), ""));
        assertThat(b.drainIndexOutbox(10, writes -> applied.addAll(writes))).isZero();
        // A ledger opened without the outbox owes nothing.
        assertThat(ledgers.another().drainIndexOutbox(10, writes -> applied.addAll(writes))).isZero();
    }

    @Test
    void twoReplicasSupersedingOneMemoryAtOnceCloseItOnce() throws Exception {
        final MemoryStore other = ledgers.another();
        for (int i = 0; i < 5; i++) {
            final int round = i;
            final String old = store.store(memory(scope("race", "ann"), "Ann lives in Lyon " + round), ACTOR, NOW)
                                    .row().memory().getName();
            final List<Object> outcomes = race(
                    () -> store.store(memory(scope("race", "ann"), "Ann lives in Paris " + round, old, null), ACTOR,
                                      NOW + 1),
                    () -> other.store(memory(scope("race", "ann"), "Ann lives in Rome " + round, old, null), ACTOR,
                                      NOW + 1));
            final List<Stored> won = outcomes.stream().filter(Stored.class::isInstance).map(Stored.class::cast)
                                             .toList();
            assertThat(won).hasSize(1);
            assertThat(outcomes).filteredOn(DomainException.class::isInstance).singleElement().satisfies(
                    e -> assertThat(((DomainException) e).code()).isEqualTo(ErrorCode.ERROR_CODE_CONFLICT));
            final var closed = other.byName(old, NOW + 2).orElseThrow().memory();
            assertThat(closed.getState()).isEqualTo(MemoryState.MEMORY_STATE_SUPERSEDED);
            assertThat(closed.getSupersededBy()).isEqualTo(won.get(0).row().memory().getName());
            assertThat(actions(old)).containsExactly(AuditAction.AUDIT_ACTION_SUPERSEDE, AuditAction.AUDIT_ACTION_STORE);
        }
    }

    @Test
    void twoReplicasStoringTheSameTextAtOnceMakeOneMemory() throws Exception {
        final MemoryStore other = ledgers.another();
        for (int round = 0; round < 5; round++) {
            final String text = "Said twice at once " + round;
            final List<Object> outcomes = race(() -> store.store(memory(scope("same", ""), text), ACTOR, NOW),
                                               () -> other.store(memory(scope("same", ""), text), ACTOR, NOW));
            assertThat(outcomes).allMatch(Stored.class::isInstance);
            assertThat(outcomes).extracting(o -> ((Stored) o).row().memory().getName()).containsOnly(
                    ((Stored) outcomes.get(0)).row().memory().getName());
            assertThat(outcomes).extracting(o -> ((Stored) o).created()).containsExactlyInAnyOrder(true, false);
        }
        assertThat(other.count()).isEqualTo(5);
    }

    @Test
    void twoReplicasSweepingAtOnceExpireEachMemoryOnce() throws Exception {
        final MemoryStore other = ledgers.another();
        for (int i = 0; i < 20; i++) {
            store.store(memory(scope("ttl", ""), "Short-lived " + i, "", NOW + 10), ACTOR, NOW);
        }
        final List<Object> swept = race(() -> store.expireDue(ACTOR, NOW + 10, 100),
                                        () -> other.expireDue(ACTOR, NOW + 10, 100));
        assertThat(swept.stream().mapToInt(s -> ((List<?>) s).size()).sum()).isEqualTo(20);
        final List<AuditRecord> records = ((PostgresMemoryStore) store).auditLog()
                .list(new LedgerView("ttl", "", ""), "", 0, 100);
        assertThat(records).filteredOn(r -> r.getAction() == AuditAction.AUDIT_ACTION_EXPIRE).hasSize(20);
    }

    @Test
    void eachReplicasChangeFeedCarriesTheOthersWritesEvenOneCommittedAfterALaterOne() throws Exception {
        final MemoryStore other = ledgers.another();
        final Stored stored = store.store(memory(scope("feed", ""), "Stored through A."), ACTOR, NOW);
        Changes read = other.changesSince(other.changeCursor(), Set.of());
        assertThat(read.changes()).isEmpty(); // committed before the cursor: in the index's load
        final long start = read.cursor();
        final Stored second = store.store(memory(scope("feed", ""), "Stored through A again."), ACTOR, NOW);
        read = other.changesSince(start, Set.of());
        assertThat(read.changes()).singleElement().satisfies(change -> {
            assertThat(change.kind()).isEqualTo(Change.Kind.ADD);
            assertThat(change.id()).isEqualTo(second.row().id());
            assertThat(change.tenant()).isEqualTo("feed");
            assertThat(change.text()).isEqualTo("Stored through A again.");
            assertThat(change.vector()).hasSize(4);
        });

        // A store whose transaction began first (a lower seq) but commits after a later store (of another user:
        // one user's stores wait for each other, on the row that counts what the user holds).
        try (Connection slow = postgres.connection()) {
            slow.setAutoCommit(false);
            final Stored late = new LedgerSql(PostgresMemoryStore.DIALECT, false)
                    .store(slow, memory(scope("feed", "slow"), "Committed late."), ACTOR, NOW);
            store.store(memory(scope("feed", ""), "Committed first."), ACTOR, NOW);
            read = other.changesSince(read.cursor(), read.seen());
            assertThat(read.changes()).extracting(Change::text).containsExactly("Committed first.");
            slow.commit();
            // Read again from the slow transaction on: only what was not read before comes back.
            read = other.changesSince(read.cursor(), read.seen());
            assertThat(read.changes()).extracting(Change::id).containsExactly(late.row().id());
        }

        store.forget(stored.row().memory().getName(), "", ACTOR, NOW);
        read = other.changesSince(read.cursor(), read.seen());
        assertThat(read.changes()).extracting(Change::kind, Change::id)
                                  .containsExactly(tuple(Change.Kind.REMOVE, stored.row().id()));
    }

    @Test
    void anIndexFollowingTheFeedHasTheOtherReplicasAddsForgetsAndRestoresAndSaysWhenItCannot() throws Exception {
        final MemoryStore other = ledgers.another();
        try (VectorIndex index = new VectorIndex(4, 1_000)) {
            final IndexLoader follower = new IndexLoader(other, index);
            follower.load();
            final Stored one = store.store(memory(scope("idx", ""), "One."), ACTOR, NOW);
            final Path backup = backupFile();
            store.backup(backup);
            store.store(memory(scope("idx", ""), "Two."), ACTOR, NOW);
            follower.followChanges();
            assertThat(index.size("idx")).isEqualTo(2);

            store.forget(one.row().memory().getName(), "", ACTOR, NOW);
            follower.followChanges();
            assertThat(index.size("idx")).isEqualTo(1);

            store.restore(backup); // "One." only
            follower.followChanges();
            assertThat(index.size("idx")).isEqualTo(1);
            assertThat(index.nearest("idx", memory(scope("idx", ""), "One.").vector(), 1)).hasSize(1);
            // The RELOAD read again (an older transaction may hold the cursor back) does not reload again.
            follower.followChanges();
            assertThat(index.size("idx")).isEqualTo(1);
            assertThat(follower.feedProblem()).isNull();

            other.close(); // the ledger out of reach: /readyz says so
            follower.followChanges();
            assertThat(follower.feedProblem()).startsWith("the shared memory ledger cannot be read");
        }
    }

    @Test
    void aBackupIsASqliteLedgerThatRestoresOnEitherEngine() throws Exception {
        final Stored kept = store.store(memory(scope("bk", ""), "Backed up."), ACTOR, NOW);
        final Path backup = backupFile();
        store.backup(backup);

        try (SqliteMemoryStore sqlite = SqliteMemoryStoreTest.newSqliteStore()) {
            assertThat(sqlite.restoreProblem(backup)).isNull();
            sqlite.restore(backup);
            assertThat(sqlite.byName(kept.row().memory().getName(), NOW).orElseThrow().memory().getText())
                    .isEqualTo("Backed up.");
        }
        final long cursor = store.changeCursor();
        store.restore(backup);
        assertThat(store.changesSince(cursor, Set.of()).changes()).extracting(Change::kind).containsExactly(Change.Kind.RELOAD);
        // New ids follow the restored ones.
        assertThat(store.store(memory(scope("bk", ""), "After."), ACTOR, NOW).row().id()).isGreaterThan(kept.row().id());
    }

    @Test
    void anUnreachableDatabaseFailsTheStartNamingIt() {
        final Postgres.Settings nowhere =
                new Postgres.Settings("jdbc:postgresql://127.0.0.1:1/sonia?password=secret", "sonia", "hunter2", 1);
        assertThatThrownBy(() -> PostgresMemoryStore.open(nowhere))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("jdbc:postgresql://127.0.0.1:1/sonia cannot be reached")
                .hasMessageNotContaining("secret").hasMessageNotContaining("hunter2");
    }

    private List<AuditAction> actions(String memory) {
        return ((PostgresMemoryStore) store).auditLog().list(new LedgerView("", "", ""), memory, 0, 10).stream()
                                            .map(AuditRecord::getAction).toList();
    }

    /** Runs the calls at once, each on its own thread; each one's result or DomainException. */
    private static List<Object> race(Callable<?>... calls) throws Exception {
        final ExecutorService threads = Executors.newFixedThreadPool(calls.length);
        final CyclicBarrier start = new CyclicBarrier(calls.length);
        try {
            final List<Future<?>> futures = new ArrayList<>();
            for (Callable<?> call : calls) {
                futures.add(threads.submit(() -> {
                    start.await();
                    return call.call();
                }));
            }
            final List<Object> outcomes = new ArrayList<>();
            for (Future<?> future : futures) {
                try {
                    outcomes.add(future.get());
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof DomainException)) {
                        throw e;
                    }
                    outcomes.add(e.getCause());
                }
            }
            return outcomes;
        } finally {
            threads.shutdownNow();
        }
    }
}
