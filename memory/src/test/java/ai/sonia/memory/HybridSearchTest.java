package ai.sonia.memory;

import static ai.sonia.memory.MemoryTestServer.scope;
import static ai.sonia.memory.MemoryTestServer.tenant;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import ai.sonia.common.v1.Scope;
import ai.sonia.memory.v1.GetMemoryStatsRequest;
import ai.sonia.memory.v1.Memory;
import ai.sonia.memory.v1.MemoryKind;
import ai.sonia.memory.v1.SearchHit;
import ai.sonia.memory.v1.SearchMemoriesRequest;
import ai.sonia.memory.v1.StoreMemoryRequest;

class HybridSearchTest {

    private static final List<String> FACTS = List.of(
            "The user's favourite colour is teal.",
            "The user works as a nurse at the city hospital.",
            "The user's sister lives in Toronto.",
            "The user is learning to play the cello.",
            "The user prefers short answers without emojis.");

    private static MemoryTestServer server;

    @BeforeAll
    static void start() {
        // Tenants of 3 vectors or more are searched through the HNSW graph, so both paths are exercised. Access
        // times are written almost at once, so a test sees what the searches before it touched (as it would later).
        server = MemoryTestServer.fresh("search", "{\"approximateAbove\":3,\"accessFlushIntervalMs\":5}");
        for (String tenant : List.of("alpha", "beta")) {
            for (String fact : FACTS) {
                server.store(scope(tenant, "u1", ""), fact);
            }
        }
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(
                () -> server.stub.getMemoryStats(GetMemoryStatsRequest.getDefaultInstance()).getApproximateIndexReady());
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void aSearchInOneTenantNeverReturnsAnotherTenantsMemoriesWhateverTheFilter() {
        final List<SearchMemoriesRequest> requests = List.of(
                request(tenant("alpha"), "colour").build(),
                request(scope("alpha", "u1", ""), "where does the sister live").setIncludeInactive(true).build(),
                request(scope("alpha", "", ""), "nurse hospital cello teal Toronto").setTopK(100).build(),
                request(tenant("alpha"), "user").addKinds(MemoryKind.MEMORY_KIND_NOTE).setMinScore(0).build());
        for (SearchMemoriesRequest request : requests) {
            final List<SearchHit> hits = server.stub.searchMemories(request).getHitsList();
            assertThat(hits).isNotEmpty();
            assertThat(hits).allSatisfy(h -> assertThat(h.getMemory().getScope().getTenant()).isEqualTo("alpha"));
        }
        assertThat(server.stub.searchMemories(request(tenant("gamma"), "colour").build()).getHitsList()).isEmpty();
    }

    @Test
    void hitsCarryFusedScoreAndPerSignalRanks() {
        final List<SearchHit> hits = server.stub.searchMemories(
                request(scope("alpha", "u1", ""), "what is the user's favourite colour").build()).getHitsList();

        final SearchHit best = hits.get(0);
        assertThat(best.getMemory().getText()).contains("teal");
        assertThat(best.getBm25Rank()).isPositive();
        assertThat(best.getVectorRank()).isEqualTo(1);
        assertThat(best.getScore()).isBetween(0.0, 1.0);
        assertThat(best.getDecay()).isGreaterThan(0.0).isLessThanOrEqualTo(1.0);
        assertThat(hits).isSortedAccordingTo((a, b) -> Double.compare(b.getScore(), a.getScore()));
    }

    @Test
    void vectorsFindWhatSharesNoWordWithTheQuery() {
        final List<SearchHit> hits = server.stub.searchMemories(
                request(tenant("alpha"), "which musical instrument").setTopK(1).build()).getHitsList();

        assertThat(hits).singleElement().satisfies(h -> {
            assertThat(h.getMemory().getText()).contains("cello");
            assertThat(h.getBm25Rank()).isZero();
        });
    }

    @Test
    void filtersOnKindMetadataAndSessionNarrowTheHits() {
        final Scope session = scope("filters", "u1", "s1");
        final Memory fact = server.stub.storeMemory(StoreMemoryRequest.newBuilder().setMemory(
                Memory.newBuilder().setScope(session).setText("The project deadline is Friday.")
                      .setKind(MemoryKind.MEMORY_KIND_FACT).putMetadata("project", "apollo")).build()).getMemory();
        final Memory note = server.stub.storeMemory(StoreMemoryRequest.newBuilder().setMemory(
                Memory.newBuilder().setScope(scope("filters", "u1", "s2")).setText("The project deadline moved.")
                      .setKind(MemoryKind.MEMORY_KIND_NOTE).putMetadata("project", "zeus")).build()).getMemory();

        assertThat(names(request(tenant("filters"), "project deadline").addKinds(MemoryKind.MEMORY_KIND_FACT)))
                .containsExactly(fact.getName());
        assertThat(names(request(tenant("filters"), "project deadline").putMetadata("project", "zeus")))
                .containsExactly(note.getName());
        assertThat(names(request(session, "project deadline"))).containsExactly(fact.getName());
        assertThat(names(request(tenant("filters"), "project deadline").setTopK(1))).hasSize(1);
        final List<SearchHit> strict = server.stub.searchMemories(
                request(tenant("filters"), "project deadline").setMinScore(0.9).build()).getHitsList();
        assertThat(strict).allSatisfy(h -> assertThat(h.getScore()).isGreaterThanOrEqualTo(0.9));
    }

    @Test
    void newerAndRecentlyUsedMemoriesOutrankOlderOnesOfEqualRelevance() {
        // A server of its own: moving the shared server's clock would age the other tests' memories, and whether
        // a memory another test just found was already re-stamped (accesses are written in the background)
        // would then decide their order.
        try (MemoryTestServer own = MemoryTestServer.fresh("decay")) {
            final Memory older = own.store(scope("decay", "u1", "old"), "The user drinks oat milk.").getMemory();
            own.clock.advance(Duration.ofDays(60));
            final Memory newer = own.store(scope("decay", "u1", "new"), "The user drinks oat milk.").getMemory();

            final List<SearchHit> hits = own.stub.searchMemories(request(tenant("decay"), "oat milk").build())
                                                 .getHitsList();

            assertThat(hits).extracting(h -> h.getMemory().getName())
                            .containsExactly(newer.getName(), older.getName());
            assertThat(hits.get(0).getDecay()).isGreaterThan(hits.get(1).getDecay());
            assertThat(hits.get(1).getDecay()).isBetween(0.3, 0.6);
        }
    }

    private static SearchMemoriesRequest.Builder request(Scope scope, String query) {
        return SearchMemoriesRequest.newBuilder().setScope(scope).setQuery(query);
    }

    private static List<String> names(SearchMemoriesRequest.Builder request) {
        return server.stub.searchMemories(request.build()).getHitsList().stream()
                          .map(h -> h.getMemory().getName()).toList();
    }
}
