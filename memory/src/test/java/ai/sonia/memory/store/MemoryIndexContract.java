package ai.sonia.memory.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import ai.sonia.common.v1.Scope;
import ai.sonia.memory.domain.Actor;
import ai.sonia.memory.domain.MemoryIndex;
import ai.sonia.memory.domain.MemoryIndex.Scored;
import ai.sonia.memory.domain.MemoryStore.NewMemory;
import ai.sonia.memory.v1.Memory;
import ai.sonia.memory.v1.MemoryKind;
import ai.sonia.runtime.testing.TestHomes;

/**
 * What the search pipeline relies on from any {@link MemoryIndex}: each query answers inside its tenant only;
 * a removed memory is gone from both rankings; BM25 ranks by term frequency and length with English stemming;
 * vectors rank by cosine. Each implementation's test extends this with a fresh, empty index per test.
 */
abstract class MemoryIndexContract {

    static final int DIMS = 384;

    private SqliteMemoryStore ledger;
    private MemoryIndex index;

    /** An index of {@link #DIMS} dimensions (emptied by the test's {@code reload} from an empty ledger). */
    abstract MemoryIndex newIndex();

    @BeforeEach
    void open() {
        final Path home = TestHomes.create("memory-index");
        ledger = SqliteMemoryStore.open(home.resolve("memory.db"), 1, false);
        index = newIndex();
        index.reload(ledger);
        Awaitility.await().until(() -> index.problem() == null);
    }

    @AfterEach
    void close() {
        index.close();
        ledger.close();
    }

    @Test
    void aTenantsQueriesNeverReturnAnotherTenantsMemories() {
        index.add("acme", 1, "the vault code is 4512", unit(0));
        index.add("globex", 2, "the vault code is 4512", unit(0));
        index.add("globex", 3, "vault vault vault code", unit(0, 1));

        assertThat(ids(index.bm25("acme", List.of("vault", "code"), 10))).containsExactly(1L);
        assertThat(ids(index.nearest("acme", unit(0), 10))).containsExactly(1L);
        assertThat(ids(index.bm25("globex", List.of("vault"), 10))).containsExactlyInAnyOrder(2L, 3L);
        assertThat(index.bm25("initech", List.of("vault"), 10)).isEmpty();
        assertThat(index.nearest("initech", unit(0), 10)).isEmpty();
        assertThat(index.size("acme")).isEqualTo(1);
        assertThat(index.size("globex")).isEqualTo(2);
        assertThat(index.size("initech")).isZero();
    }

    @Test
    void aRemovedMemoryLeavesBothRankings() {
        index.add("acme", 1, "the car is parked on level three", unit(0));
        index.add("acme", 2, "the bike is parked outside", unit(1));
        index.remove("acme", 1);

        assertThat(ids(index.bm25("acme", List.of("parked"), 10))).containsExactly(2L);
        assertThat(ids(index.nearest("acme", unit(0), 10))).containsExactly(2L);
        assertThat(index.size("acme")).isEqualTo(1);
    }

    @Test
    void addingAnIdAgainKeepsOneCopy() {
        index.add("acme", 7, "tea with lemon", unit(2));
        index.add("acme", 7, "tea with lemon", unit(2));

        assertThat(ids(index.bm25("acme", List.of("lemon"), 10))).containsExactly(7L);
        assertThat(ids(index.nearest("acme", unit(2), 10))).containsExactly(7L);
        assertThat(index.size("acme")).isEqualTo(1);
    }

    @Test
    void bm25RanksFrequentShortAndStemmedMatchesFirst() {
        index.add("acme", 1, "rare rare bird", unit(0));
        index.add("acme", 2, "a rare bird seen once in a very long list of many other ordinary words", unit(1));
        index.add("acme", 3, "nothing to see here", unit(2));
        index.add("acme", 4, "she is running every morning", unit(3));

        assertThat(ids(index.bm25("acme", List.of("rare"), 10))).containsExactly(1L, 2L);
        // English stemming on both sides: "runs" finds "running".
        assertThat(ids(index.bm25("acme", List.of("runs"), 10))).containsExactly(4L);
        // Any word matches; more matched words rank higher.
        assertThat(ids(index.bm25("acme", List.of("bird", "seen"), 10))).containsExactly(2L, 1L);
        assertThat(ids(index.bm25("acme", List.of("rare"), 1))).containsExactly(1L);
    }

    @Test
    void vectorsRankByCosine() {
        index.add("acme", 1, "one", unit(1));
        index.add("acme", 2, "two", unit(0, 1));
        index.add("acme", 3, "three", unit(0));

        final List<Scored> nearest = index.nearest("acme", unit(0), 10);
        assertThat(ids(nearest)).containsExactly(3L, 2L, 1L);
        assertThat(nearest.get(0).score()).isCloseTo(1f, org.assertj.core.data.Offset.offset(1e-4f));
        assertThat(nearest.get(1).score()).isCloseTo((float) Math.sqrt(0.5), org.assertj.core.data.Offset.offset(1e-4f));
        assertThat(ids(index.nearest("acme", unit(0), 2))).containsExactly(3L, 2L);
    }

    @Test
    void loadFillsTheIndexFromTheLedger() {
        final List<Long> ids = new ArrayList<>();
        for (int i = 0; i < 250; i++) {
            final String tenant = i % 2 == 0 ? "acme" : "globex";
            final Memory memory = Memory.newBuilder().setText("note number " + i + (i == 7 ? " about zebras" : ""))
                                        .setScope(Scope.newBuilder().setTenant(tenant))
                                        .setKind(MemoryKind.MEMORY_KIND_NOTE).build();
            ids.add(ledger.store(new NewMemory(memory, "hash-" + i, unit(i % DIMS), "test-model", null, ""),
                                 new Actor("user:acme/ann", "corr-1"), 1_000L).row().id());
        }
        index.reload(ledger);
        Awaitility.await().until(() -> index.problem() == null);

        assertThat(index.size("acme")).isEqualTo(125);
        assertThat(index.size("globex")).isEqualTo(125);
        assertThat(ids(index.bm25("globex", List.of("zebras"), 10))).containsExactly(ids.get(7));
        assertThat(ids(index.nearest("globex", unit(7), 1))).containsExactly(ids.get(7));
        assertThat(index.bm25("acme", List.of("zebras"), 10)).isEmpty();
    }

    /** The unit vector along the sum of the given axes. */
    static float[] unit(int... axes) {
        final float[] vector = new float[DIMS];
        for (int axis : axes) {
            vector[axis] = (float) (1 / Math.sqrt(axes.length));
        }
        return vector;
    }

    private static List<Long> ids(List<Scored> scored) {
        return scored.stream().map(Scored::id).toList();
    }
}
