package ai.sonia.memory.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import ai.sonia.common.v1.ErrorCode;
import ai.sonia.common.v1.Scope;
import ai.sonia.memory.domain.Actor;
import ai.sonia.memory.domain.LedgerView;
import ai.sonia.memory.domain.MemoryFilter;
import ai.sonia.memory.domain.MemoryStore;
import ai.sonia.memory.domain.MemoryStore.NewMemory;
import ai.sonia.memory.domain.MemoryStore.Row;
import ai.sonia.memory.domain.MemoryStore.Stored;
import ai.sonia.memory.v1.Memory;
import ai.sonia.memory.v1.MemoryKind;
import ai.sonia.memory.v1.MemoryState;
import ai.sonia.memory.v1.MemoryStats;
import ai.sonia.runtime.errors.DomainException;

/**
 * What every {@link MemoryStore} must do, whatever engine holds it: run it against a new implementation by
 * extending this class.
 */
public abstract class MemoryStoreContract {

    protected static final Actor ACTOR = new Actor("user:acme/ann", "corr-1");
    private static final long NOW = 1_700_000_000_000L;

    protected MemoryStore store;

    /** A new, empty store. */
    protected abstract MemoryStore newStore();

    /** A fresh file under target/ for a backup. */
    protected Path backupFile() throws Exception {
        final Path dir = Path.of("target", "store-contract", "backups-" + System.nanoTime()).toAbsolutePath();
        Files.createDirectories(dir);
        return dir.resolve("backup.db");
    }

    @BeforeEach
    void open() {
        store = newStore();
    }

    @AfterEach
    void close() {
        store.close();
    }

    protected static NewMemory memory(Scope scope, String text) {
        return memory(scope, text, "", null);
    }

    protected static NewMemory memory(Scope scope, String text, String supersedes, Long expireMs) {
        final float[] vector = new float[4];
        vector[Math.floorMod(text.hashCode(), 4)] = 1;
        return new NewMemory(Memory.newBuilder().setText(text).setScope(scope).setKind(MemoryKind.MEMORY_KIND_NOTE)
                                   .putMetadata("topic", "t").build(),
                             Integer.toHexString(text.hashCode()), vector, "test-model", expireMs, supersedes);
    }

    protected static Scope scope(String tenant, String user) {
        return Scope.newBuilder().setTenant(tenant).setUser(user).build();
    }

    private static MemoryFilter filter(String tenant, String user) {
        return new MemoryFilter(tenant, user, "", List.of(), new TreeMap<>(), false, NOW);
    }

    @Test
    void aStoredMemoryReadsBackAndTheSameTextInTheSameScopeIsNotStoredTwice() {
        final Stored first = store.store(memory(scope("acme", "ann"), "Ann likes tea."), ACTOR, NOW);
        final Stored again = store.store(memory(scope("acme", "ann"), "Ann likes tea."), ACTOR, NOW + 1);

        assertThat(first.created()).isTrue();
        assertThat(again.created()).isFalse();
        assertThat(again.row().memory().getName()).isEqualTo(first.row().memory().getName());
        final Memory read = store.byName(first.row().memory().getName(), NOW).orElseThrow().memory();
        assertThat(read.getText()).isEqualTo("Ann likes tea.");
        assertThat(read.getScope()).isEqualTo(scope("acme", "ann"));
        assertThat(read.getMetadataMap()).containsEntry("topic", "t");
        assertThat(read.getState()).isEqualTo(MemoryState.MEMORY_STATE_ACTIVE);
        assertThat(store.activeByHash(scope("acme", "ann"), Integer.toHexString("Ann likes tea.".hashCode()), NOW))
                .map(row -> row.memory().getName()).contains(read.getName());
        assertThat(store.count()).isEqualTo(1);
    }

    @Test
    void tenantsNeverSeeEachOthersMemories() {
        final Stored a = store.store(memory(scope("a", "u"), "The launch code is blue."), ACTOR, NOW);
        final Stored b = store.store(memory(scope("b", "u"), "The launch code is blue."), ACTOR, NOW);

        assertThat(b.created()).isTrue();
        assertThat(store.list(filter("a", ""), 0, 10)).extracting(r -> r.memory().getName())
                                                       .containsExactly(a.row().memory().getName());
        assertThat(store.eligible(filter("a", ""), List.of(a.row().id(), b.row().id()))).containsOnlyKeys(
                a.row().id());
        assertThat(store.eligible(filter("b", ""), List.of(a.row().id(), b.row().id()))).containsOnlyKeys(
                b.row().id());
        final MemoryStats stats = store.stats(new LedgerView("a", "", ""), NOW);
        assertThat(stats.getActive()).isEqualTo(1);
        assertThat(stats.getVectors()).isEqualTo(1);
    }

    @Test
    void aUserSeesTheirOwnAndTheTenantWideMemoriesButNotAnotherUsers() {
        final Stored ann = store.store(memory(scope("t", "ann"), "Ann's note."), ACTOR, NOW);
        final Stored bob = store.store(memory(scope("t", "bob"), "Bob's note."), ACTOR, NOW);
        final Stored wide = store.store(memory(scope("t", ""), "Everybody's note."), ACTOR, NOW);

        assertThat(store.list(filter("t", "ann"), 0, 10)).extracting(r -> r.memory().getName())
                .containsExactlyInAnyOrder(ann.row().memory().getName(), wide.row().memory().getName());
        assertThat(store.eligible(filter("t", "ann"), List.of(ann.row().id(), bob.row().id(), wide.row().id())))
                .containsOnlyKeys(ann.row().id(), wide.row().id());
        assertThat(store.stats(new LedgerView("t", "bob", ""), NOW).getActive()).isEqualTo(1);
    }

    @Test
    void supersedeClosesTheOldVersionAndLinksBoth() {
        final Memory old = store.store(memory(scope("t", "ann"), "Ann lives in Lyon."), ACTOR, NOW).row().memory();
        final Memory fresh = store.store(memory(scope("t", "ann"), "Ann lives in Paris.", old.getName(), null),
                                         ACTOR, NOW + 1).row().memory();

        final Memory closed = store.byName(old.getName(), NOW + 2).orElseThrow().memory();
        assertThat(closed.getState()).isEqualTo(MemoryState.MEMORY_STATE_SUPERSEDED);
        assertThat(closed.getSupersededBy()).isEqualTo(fresh.getName());
        assertThat(fresh.getSupersedes()).isEqualTo(old.getName());
        assertThat(store.list(filter("t", "ann"), 0, 10)).extracting(r -> r.memory().getName())
                                                          .containsExactly(fresh.getName());
        // Only an active memory can be superseded, and only within its tenant.
        assertConflict(() -> store.store(memory(scope("t", "ann"), "Ann lives in Nice.", old.getName(), null),
                                         ACTOR, NOW + 3));
        assertNotFound(() -> store.store(memory(scope("other", "ann"), "Ann lives in Rome.", fresh.getName(), null),
                                         ACTOR, NOW + 3));
    }

    @Test
    void invalidateIsIdempotentAndForgetRemovesEverything() {
        final Row row = store.store(memory(scope("t", "ann"), "A passing thought."), ACTOR, NOW).row();
        final String name = row.memory().getName();

        assertThat(store.invalidate(name, "wrong", ACTOR, NOW + 1).memory().getState())
                .isEqualTo(MemoryState.MEMORY_STATE_INVALIDATED);
        assertThat(store.invalidate(name, "again", ACTOR, NOW + 2).memory().getState())
                .isEqualTo(MemoryState.MEMORY_STATE_INVALIDATED);

        final MemoryStore.Forgotten forgotten = store.forget(name, "privacy", ACTOR, NOW + 3);
        assertThat(forgotten.id()).isEqualTo(row.id());
        assertThat(forgotten.tenant()).isEqualTo("t");
        assertThat(store.byName(name, NOW + 3)).isEmpty();
        assertThat(store.eligible(new MemoryFilter("t", "", "", List.of(), new TreeMap<>(), true, NOW),
                                  List.of(row.id()))).isEmpty();
        final List<Long> vectors = new ArrayList<>();
        store.vectors((id, tenant, vector) -> vectors.add(id));
        assertThat(vectors).doesNotContain(row.id());
        assertThat(store.count()).isZero();
    }

    @Test
    void missingMemoriesAreNotFound() {
        final String missing = "memories/" + "0".repeat(32);
        assertThat(store.byName(missing, NOW)).isEmpty();
        assertNotFound(() -> store.invalidate(missing, "", ACTOR, NOW));
        assertNotFound(() -> store.forget(missing, "", ACTOR, NOW));
        assertNotFound(() -> store.store(memory(scope("t", ""), "x", missing, null), ACTOR, NOW));
    }

    @Test
    void aMemoryPastItsExpiryReadsExpiredAndTheSweepRecordsIt() {
        final String name = store.store(memory(scope("t", ""), "Short-lived.", "", NOW + 10), ACTOR, NOW).row()
                                 .memory().getName();

        assertThat(store.byName(name, NOW + 5).orElseThrow().memory().getState())
                .isEqualTo(MemoryState.MEMORY_STATE_ACTIVE);
        assertThat(store.byName(name, NOW + 10).orElseThrow().memory().getState())
                .isEqualTo(MemoryState.MEMORY_STATE_EXPIRED);
        assertThat(store.expireDue(ACTOR, NOW + 10, 100)).extracting(MemoryStore.Expired::tenant)
                                                         .containsExactly("t");
        assertThat(store.expireDue(ACTOR, NOW + 10, 100)).isEmpty();
        assertThat(store.stats(new LedgerView("t", "", ""), NOW + 10).getExpired()).isEqualTo(1);
    }

    @Test
    void pagesNeitherSkipNorRepeatWhileMemoriesAreAdded() {
        for (int i = 0; i < 7; i++) {
            store.store(memory(scope("p", ""), "Page memory " + i), ACTOR, NOW);
        }
        final List<String> seen = new ArrayList<>();
        long before = 0;
        int added = 0;
        while (true) {
            final List<Row> page = store.list(filter("p", ""), before, 3);
            page.forEach(row -> seen.add(row.memory().getText()));
            if (page.size() < 3) {
                break;
            }
            before = page.get(page.size() - 1).id();
            store.store(memory(scope("p", ""), "Added while paging " + added++), ACTOR, NOW);
        }
        assertThat(seen).doesNotHaveDuplicates().hasSize(7)
                        .allMatch(text -> text.startsWith("Page memory"));
    }

    @Test
    void concurrentWritersAllLandOnce() throws Exception {
        final ExecutorService writers = Executors.newFixedThreadPool(8);
        final Set<String> names = ConcurrentHashMap.newKeySet();
        try {
            final List<Future<?>> done = new ArrayList<>();
            for (int w = 0; w < 8; w++) {
                final int writer = w;
                done.add(writers.submit(() -> {
                    for (int i = 0; i < 25; i++) {
                        names.add(store.store(memory(scope("c", "u" + writer), "Write " + writer + '/' + i), ACTOR,
                                              NOW).row().memory().getName());
                        // The same text from every writer: one memory, however they race.
                        store.store(memory(scope("c", ""), "Shared text"), ACTOR, NOW);
                    }
                    return null;
                }));
            }
            for (Future<?> future : done) {
                future.get();
            }
        } finally {
            writers.shutdownNow();
        }
        assertThat(names).hasSize(200);
        assertThat(store.count()).isEqualTo(201);
    }

    @Test
    void storedVectorsAndTextsStreamBackInIdOrder() {
        final Stored one = store.store(memory(scope("v", ""), "First vector."), ACTOR, NOW);
        final Stored two = store.store(memory(scope("w", ""), "Second vector."), ACTOR, NOW);
        final List<Long> ids = new ArrayList<>();
        final Set<String> texts = new HashSet<>();
        store.documents((id, tenant, text, vector) -> {
            ids.add(id);
            texts.add(tenant + ':' + text + ':' + vector.length);
        });
        assertThat(ids).containsExactly(one.row().id(), two.row().id());
        assertThat(texts).containsExactlyInAnyOrder("v:First vector.:4", "w:Second vector.:4");
        assertThat(store.otherVectorModels("test-model", 3)).isEmpty();
        assertThat(store.otherVectorModels("another", 3)).containsExactly("test-model");
    }

    @Test
    void aRestoreBringsBackTheLedgerAsBackedUp() throws Exception {
        final Stored kept = store.store(memory(scope("b", ""), "Kept."), ACTOR, NOW);
        final Path backup = backupFile();
        store.backup(backup);
        store.store(memory(scope("b", ""), "Later."), ACTOR, NOW);
        store.forget(kept.row().memory().getName(), "", ACTOR, NOW);

        assertThat(store.restoreProblem(backup)).isNull();
        store.restore(backup);

        assertThat(store.count()).isEqualTo(1);
        assertThat(store.byName(kept.row().memory().getName(), NOW)).isPresent();
        Files.writeString(backup, "not a database");
        assertThat(store.restoreProblem(backup)).isNotNull();
    }

    @Test
    void aStoreIsFoundAgainByItsRequestIdForItsPrincipalOnly() {
        final NewMemory first = memory(scope("r", "ann"), "Stored once.");
        final Stored stored = store.store(new NewMemory(first.memory(), first.contentHash(), first.vector(),
                                                        first.model(), null, "", "req-1"), ACTOR, NOW);

        assertThat(store.byRequest(ACTOR.principal(), "req-1", NOW - 1, NOW + 1)).hasValueSatisfying(earlier -> {
            assertThat(earlier.created()).isTrue();
            assertThat(earlier.row().memory().getName()).isEqualTo(stored.row().memory().getName());
        });
        assertThat(store.byRequest("user:acme/bob", "req-1", NOW - 1, NOW + 1)).isEmpty();
        assertThat(store.byRequest(ACTOR.principal(), "req-2", NOW - 1, NOW + 1)).isEmpty();
        assertThat(store.byRequest(ACTOR.principal(), "req-1", NOW + 1, NOW + 1)).isEmpty();

        assertThat(store.forgetRequestsBefore(NOW)).isZero();
        assertThat(store.forgetRequestsBefore(NOW + 1)).isEqualTo(1);
        assertThat(store.byRequest(ACTOR.principal(), "req-1", NOW - 1, NOW + 1)).isEmpty();
    }

    @Test
    void storeAllStoresEachAsStoreWould() {
        final List<Stored> stored = store.storeAll(List.of(memory(scope("all", ""), "One."),
                                                           memory(scope("all", ""), "Two."),
                                                           memory(scope("all", ""), "One.")), ACTOR, NOW);
        assertThat(stored).extracting(Stored::created).containsExactly(true, true, false);
        assertThat(stored.get(2).row().memory().getName()).isEqualTo(stored.get(0).row().memory().getName());
        assertThat(store.count()).isEqualTo(2);
    }

    @Test
    void accessesMoveTheReferenceTime() {
        final Row row = store.store(memory(scope("a", ""), "Touched."), ACTOR, NOW).row();
        store.touch(Map.of(row.id(), new long[] {NOW + 1_000, 3}));
        final Row touched = store.byName(row.memory().getName(), NOW).orElseThrow();
        assertThat(touched.referenceMs()).isEqualTo(NOW + 1_000);
        assertThat(touched.memory().getAccessCount()).isEqualTo(3);
    }

    /**
     * Ranking's check ({@code eligibleReferences}, from a mirror in memory where the engine keeps one) answers
     * what the ledger's own read ({@code eligible}) answers, for every filter, after every kind of write:
     * stores in several scopes, kinds and metadata, supersedes, invalidations, forgets, expiry and its sweep,
     * accesses, writes that fail and roll back, and a restore.
     */
    @Test
    void rankingsCheckAgreesWithTheLedgerAfterEveryKindOfWrite() throws Exception {
        final java.util.Random random = new java.util.Random(18);
        final String[] tenants = {"a", "b"};
        final String[] users = {"", "u1", "u2"};
        final String[] sessions = {"", "s1"};
        final MemoryKind[] kinds = {MemoryKind.MEMORY_KIND_NOTE, MemoryKind.MEMORY_KIND_FACT};
        final List<Row> rows = new ArrayList<>();
        final List<Long> ids = new ArrayList<>(List.of(999_999L));
        Path backup = null;
        long now = NOW;
        for (int step = 0; step < 120; step++) {
            now += 1 + random.nextInt(5);
            final int op = random.nextInt(10);
            if (op < 5 || rows.isEmpty()) {
                final Scope scope = Scope.newBuilder().setTenant(tenants[random.nextInt(2)])
                                         .setUser(users[random.nextInt(3)]).setSession(sessions[random.nextInt(2)])
                                         .build();
                final Memory.Builder memory = Memory.newBuilder().setText("m" + step).setScope(scope)
                                                    .setKind(kinds[random.nextInt(2)]);
                if (random.nextBoolean()) {
                    memory.putMetadata("topic", random.nextBoolean() ? "x" : "y");
                }
                final Long expire = random.nextInt(3) == 0 ? now + random.nextInt(40) : null;
                final Row superseded = random.nextInt(4) == 0 ? rows.get(random.nextInt(rows.size())) : null;
                try {
                    final Row row = store.store(new NewMemory(memory.build(), "h" + step, new float[] {1, 0, 0, 0},
                                                              "test-model", expire,
                                                              superseded == null ? "" : superseded.memory().getName()),
                                                ACTOR, now).row();
                    rows.add(row);
                    ids.add(row.id());
                } catch (DomainException e) {
                    // A supersede of a memory no longer active (or of another tenant): rolled back whole.
                }
            } else {
                final Row row = rows.get(random.nextInt(rows.size()));
                final String name = row.memory().getName();
                try {
                    switch (op) {
                        case 5 -> store.invalidate(name, "", ACTOR, now);
                        case 6 -> store.forget(name, "", ACTOR, now);
                        case 7 -> store.touch(Map.of(row.id(), new long[] {now + random.nextInt(100), 1}));
                        case 8 -> store.expireDue(ACTOR, now, 100);
                        default -> {
                            if (backup == null) {
                                backup = backupFile();
                                store.backup(backup);
                            } else {
                                store.restore(backup);
                                backup = null;
                            }
                        }
                    }
                } catch (DomainException e) {
                    // Forgotten before: NOT_FOUND, nothing written.
                }
            }
            if (step % 8 == 7) {
                for (String tenant : tenants) {
                    for (String user : users) {
                        for (long at : new long[] {now, now + 20}) {
                            final boolean inactive = random.nextInt(4) == 0;
                            final List<Integer> kindFilter = random.nextBoolean() ? List.of()
                                    : List.of(kinds[random.nextInt(2)].getNumber());
                            final TreeMap<String, String> metadata = new TreeMap<>();
                            if (random.nextInt(3) == 0) {
                                metadata.put("topic", "x");
                            }
                            final MemoryFilter filter = new MemoryFilter(tenant, user, random.nextBoolean() ? "" : "s1",
                                                                         kindFilter, metadata, inactive, at);
                            final Map<Long, Long> expected = new java.util.HashMap<>();
                            store.eligible(filter, ids).forEach((id, r) -> expected.put(id, r.referenceMs()));
                            assertThat(store.eligibleReferences(filter, ids)).as("%s at step %d", filter, step)
                                                                           .isEqualTo(expected);
                        }
                    }
                }
            }
        }
        // Concurrent writers share group commits, some of them rolled back (a supersede of no memory).
        final ExecutorService writers = Executors.newFixedThreadPool(8);
        try {
            final List<Future<Long>> stored = new ArrayList<>();
            for (int i = 0; i < 32; i++) {
                final int n = i;
                final long at = now;
                stored.add(writers.submit(() -> {
                    try {
                        return store.store(memory(scope("a", ""), "concurrent " + n,
                                                  n % 3 == 0 ? "memories/" + "0".repeat(32) : "", null),
                                           ACTOR, at).row().id();
                    } catch (DomainException e) {
                        return -1L;
                    }
                }));
            }
            for (Future<Long> id : stored) {
                ids.add(id.get());
            }
        } finally {
            writers.shutdown();
        }
        final MemoryFilter all = new MemoryFilter("a", "", "", List.of(), new TreeMap<>(), false, now);
        final Map<Long, Long> expected = new java.util.HashMap<>();
        store.eligible(all, ids).forEach((id, r) -> expected.put(id, r.referenceMs()));
        assertThat(store.eligibleReferences(all, ids)).isEqualTo(expected);
    }

    protected static void assertNotFound(ThrowingCallable call) {
        assertThatThrownBy(call).isInstanceOfSatisfying(
                DomainException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.ERROR_CODE_NOT_FOUND));
    }

    protected static void assertConflict(ThrowingCallable call) {
        assertThatThrownBy(call).isInstanceOfSatisfying(
                DomainException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.ERROR_CODE_CONFLICT));
    }
}
