package ai.sonia.memory;

import static ai.sonia.memory.MemoryTestServer.scope;
import static ai.sonia.memory.MemoryTestServer.tenant;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

import ai.sonia.memory.v1.ForgetMemoryRequest;
import ai.sonia.memory.v1.GetMemoryStatsRequest;
import ai.sonia.memory.v1.SearchHit;
import ai.sonia.memory.v1.SearchMemoriesRequest;

/** Tenants above the configured size are searched through the HNSW graph, with the same guarantees. */
class ApproximateIndexTest {

    private static final String CONFIG = "{\"approximateAbove\":10,\"candidates\":5}";

    @Test
    void theGraphKeepsTenantsApartForgetsAndIsRebuiltAfterRestart() {
        final Path home;
        final String top;
        try (MemoryTestServer server = MemoryTestServer.fresh("hnsw", CONFIG)) {
            home = server.home;
            for (int i = 0; i < 30; i++) {
                for (String tenant : List.of("big", "twin")) {
                    server.store(scope(tenant, "u", ""), "Reminder " + i + ": water plant number " + i + '.');
                }
            }
            server.store(scope("big", "u", ""), "The user's passport number is stored in the blue folder.");
            awaitGraph(server);

            final List<SearchHit> hits = search(server, "where is the passport kept");
            assertThat(hits).hasSize(5)
                            .allSatisfy(h -> assertThat(h.getMemory().getScope().getTenant()).isEqualTo("big"));
            assertThat(hits.get(0).getMemory().getText()).contains("passport");
            assertThat(hits.get(0).getVectorRank()).isEqualTo(1);
            top = hits.get(0).getMemory().getName();
            server.stub.forgetMemory(ForgetMemoryRequest.newBuilder().setName(top).build());
            assertThat(search(server, "where is the passport kept")).extracting(h -> h.getMemory().getName())
                                                                    .doesNotContain(top);
        }
        try (MemoryTestServer reopened = MemoryTestServer.reopen(home)) {
            awaitGraph(reopened);
            final List<SearchHit> hits = search(reopened, "water plant number 7");
            assertThat(hits).allSatisfy(h -> assertThat(h.getMemory().getScope().getTenant()).isEqualTo("big"));
            assertThat(hits.get(0).getMemory().getText()).contains("number 7.");
            assertThat(hits).extracting(h -> h.getMemory().getName()).doesNotContain(top);
        }
    }

    private static void awaitGraph(MemoryTestServer server) {
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(
                () -> server.stub.getMemoryStats(GetMemoryStatsRequest.getDefaultInstance()).getApproximateIndexReady());
    }

    private static List<SearchHit> search(MemoryTestServer server, String query) {
        return server.stub.searchMemories(SearchMemoriesRequest.newBuilder().setScope(tenant("big")).setQuery(query)
                                                               .setTopK(5).build()).getHitsList();
    }
}
