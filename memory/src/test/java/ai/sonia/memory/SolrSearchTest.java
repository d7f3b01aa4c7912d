package ai.sonia.memory;

import static ai.sonia.memory.MemoryTestServer.scope;
import static ai.sonia.memory.MemoryTestServer.tenant;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;

import org.assertj.core.api.ThrowingConsumer;
import org.awaitility.Awaitility;
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
import ai.sonia.runtime.testing.FreePorts;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * The memory service with its search on SolrCloud ({@code services.memory.search.engine: solr}), over a real
 * in-process SolrCloud: hybrid search finds by meaning and by word, never across tenants, and drops superseded
 * and forgotten memories; stores and forgets are acknowledged once the ledger (with its outbox) has them, reach
 * Solr when it takes writes again, and searches are UNAVAILABLE, naming the engine, while Solr lacks any of them.
 */
class SolrSearchTest {

    private static SolrTestCloud cloud;
    private static String collection;
    private static MemoryTestServer server;

    @BeforeAll
    static void start() {
        cloud = SolrTestCloud.get();
        collection = cloud.newCollection("service");
        server = MemoryTestServer.fresh("solr-search", cloud.memorySection(collection));
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
    void writesSolrRefusedAreAcknowledgedAndReachItOnceItTakesThemSearchFailingClosedMeanwhile() {
        final Scope scope = scope("outbox", "ann", "");
        final Memory bees = server.store(scope, "Ann keeps bees in Oslo.").getMemory();
        assertThat(names(search(tenant("outbox"), "bees"))).containsExactly(bees.getName());

        cloud.readOnly(collection, true);
        final Memory dog;
        try {
            // The ledger commits and records what Solr is owed: both acknowledged, though Solr refused them.
            dog = server.store(scope, "Ann's dog is called Rex.").getMemory();
            server.stub.forgetMemory(ForgetMemoryRequest.newBuilder().setName(bees.getName()).build());
            // A search would miss the dog: it fails closed, saying why.
            assertThatThrownBy(() -> search(tenant("outbox"), "dog"))
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
                        assertThat(e.getStatus().getDescription()).contains("behind the ledger");
                    });
        } finally {
            cloud.readOnly(collection, false);
        }

        // Solr takes the writes again: the outbox reaches it without a restart, in order.
        Awaitility.await().atMost(Duration.ofSeconds(10)).ignoreExceptions()
                  .until(() -> names(search(tenant("outbox"), "what is Ann's dog called")).equals(
                          List.of(dog.getName())));
        assertThat(names(search(tenant("outbox"), "bees"))).doesNotContain(bees.getName());
        // The forgotten memory left Solr itself, not only the results.
        assertThat(cloud.count(collection, "outbox")).isEqualTo(1);
    }

    @Test
    void anUnreachableSolrCloudMakesSearchUnavailableWhileStoresAreKeptInTheLedger() {
        final String section = "{\"search\":{\"engine\":\"solr\",\"solr\":{\"zkHost\":\"127.0.0.1:" + FreePorts.pick()
                               + "\",\"collection\":\"nowhere\",\"timeoutMs\":1000}}}";
        try (MemoryTestServer down = MemoryTestServer.fresh("solr-down", section)) {
            final Runnable search = () -> down.stub.searchMemories(
                    SearchMemoriesRequest.newBuilder().setScope(tenant("alpha")).setQuery("colour").build());
            final ThrowingConsumer<StatusRuntimeException> unavailable = e -> {
                assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
                assertThat(e.getStatus().getDescription()).contains("SolrCloud");
            };
            assertThatThrownBy(search::run).isInstanceOfSatisfying(StatusRuntimeException.class, unavailable);
            // The ledger has it, and its outbox what Solr is owed: acknowledged, and searches still refuse.
            assertThat(down.store(scope("alpha", "u1", ""), "The user's favourite colour is teal.").getCreated())
                    .isTrue();
            assertThatThrownBy(search::run).isInstanceOfSatisfying(StatusRuntimeException.class, unavailable);
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
