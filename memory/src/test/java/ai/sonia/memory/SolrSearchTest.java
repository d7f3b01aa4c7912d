package ai.sonia.memory;

import static ai.sonia.memory.MemoryTestServer.scope;
import static ai.sonia.memory.MemoryTestServer.tenant;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import ai.sonia.common.v1.Scope;
import ai.sonia.memory.store.SolrTestCloud;
import ai.sonia.memory.v1.ForgetMemoryRequest;
import ai.sonia.memory.v1.Memory;
import ai.sonia.memory.v1.SearchHit;
import ai.sonia.memory.v1.SearchMemoriesRequest;
import ai.sonia.memory.v1.StoreMemoryRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * The memory service with its search on SolrCloud ({@code services.memory.search.engine: solr}), over a real
 * in-process SolrCloud: hybrid search finds by meaning and by word, never across tenants, and drops superseded
 * and forgotten memories; an unreachable SolrCloud makes search and store UNAVAILABLE, naming the engine.
 */
class SolrSearchTest {

    private static MemoryTestServer server;

    @BeforeAll
    static void start() {
        final SolrTestCloud cloud = SolrTestCloud.get();
        server = MemoryTestServer.fresh("solr-search", cloud.memorySection(cloud.newCollection("service")));
        for (String tenant : List.of("alpha", "beta")) {
            server.store(scope(tenant, "u1", ""), "The user's favourite colour is teal.");
            server.store(scope(tenant, "u1", ""), "The user's sister lives in Toronto and works as a nurse.");
            server.store(scope(tenant, "u1", ""), "The user plays the cello on Sundays.");
        }
        server.store(scope("beta", "u1", ""), "Beta's vault code is 4512.");
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void hybridSearchOnSolrFindsByMeaningAndByWordInsideItsTenantOnly() {
        final List<SearchHit> hits = search(tenant("alpha"), "which city does my sibling live in");
        assertThat(hits).isNotEmpty();
        assertThat(hits.get(0).getMemory().getText()).contains("Toronto");
        assertThat(hits.get(0).getVectorRank()).isEqualTo(1);
        assertThat(hits).allSatisfy(h -> assertThat(h.getMemory().getScope().getTenant()).isEqualTo("alpha"));

        final List<SearchHit> byWord = search(tenant("alpha"), "cello");
        assertThat(byWord.get(0).getMemory().getText()).contains("cello");
        assertThat(byWord.get(0).getBm25Rank()).isEqualTo(1);

        // Beta's vault code is a word match in beta only; alpha's search never sees it.
        assertThat(search(tenant("alpha"), "vault code 4512"))
                .noneSatisfy(h -> assertThat(h.getMemory().getText()).contains("4512"));
        assertThat(search(tenant("beta"), "vault code 4512").get(0).getMemory().getText()).contains("4512");
        assertThat(search(tenant("gamma"), "colour")).isEmpty();
    }

    @Test
    void supersededAndForgottenMemoriesLeaveTheResults() {
        final Scope scope = scope("hist", "ann", "");
        final Memory lyon = server.store(scope, "Ann lives in Lyon.").getMemory();
        final Memory porto = server.stub.storeMemory(
                StoreMemoryRequest.newBuilder()
                                  .setMemory(Memory.newBuilder().setScope(scope).setText("Ann lives in Porto."))
                                  .setSupersedes(lyon.getName()).build()).getMemory();

        assertThat(names(search(tenant("hist"), "where does Ann live"))).containsExactly(porto.getName());

        server.stub.forgetMemory(ForgetMemoryRequest.newBuilder().setName(porto.getName()).build());
        assertThat(search(tenant("hist"), "where does Ann live")).isEmpty();
    }

    @Test
    void anUnreachableSolrCloudMakesSearchAndStoreUnavailable() {
        final String section = "{\"search\":{\"engine\":\"solr\",\"solr\":{\"zkHost\":\"127.0.0.1:" + ai.sonia.runtime.testing.FreePorts.pick()
                               + "\",\"collection\":\"nowhere\",\"timeoutMs\":1000}}}";
        try (MemoryTestServer down = MemoryTestServer.fresh("solr-down", section)) {
            for (Runnable call : List.<Runnable>of(
                    () -> down.stub.searchMemories(SearchMemoriesRequest.newBuilder().setScope(tenant("alpha"))
                                                                        .setQuery("colour").build()),
                    () -> down.store(scope("alpha", "u1", ""), "The user's favourite colour is teal."))) {
                assertThatThrownBy(call::run).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
                    assertThat(e.getStatus().getDescription()).contains("SolrCloud");
                });
            }
        }
    }

    private static List<SearchHit> search(Scope scope, String query) {
        return server.stub.searchMemories(SearchMemoriesRequest.newBuilder().setScope(scope).setQuery(query).build())
                          .getHitsList();
    }

    private static List<String> names(List<SearchHit> hits) {
        return hits.stream().map(h -> h.getMemory().getName()).toList();
    }
}
