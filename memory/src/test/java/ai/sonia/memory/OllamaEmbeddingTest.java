package ai.sonia.memory;

import static ai.sonia.memory.MemoryTestServer.tenant;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.server.Server;

import ai.sonia.memory.v1.GetMemoryStatsRequest;
import ai.sonia.memory.v1.SearchHit;
import ai.sonia.memory.v1.SearchMemoriesRequest;

/**
 * With {@code embedding.provider = ollama}, memories are embedded by Ollama — here a loopback server
 * speaking Ollama's real {@code POST /api/embed} — through the production client, and a ledger embedded
 * by another model refuses to start with this one.
 */
class OllamaEmbeddingTest {

    private static final ObjectMapper mapper = new ObjectMapper();
    private static final AtomicInteger embedCalls = new AtomicInteger();
    private static Server ollama;

    @BeforeAll
    static void startOllama() {
        ollama = ai.sonia.runtime.SoniaServer.stopAtOnce(Server.builder()).http(0).service("/api/embed", (ctx, req) -> HttpResponse.of(
                req.aggregate().thenApply(body -> {
                    embedCalls.incrementAndGet();
                    try {
                        final JsonNode request = mapper.readTree(body.contentUtf8());
                        final ObjectNode response = mapper.createObjectNode().put("model", request.get("model").asText());
                        final ArrayNode embeddings = response.putArray("embeddings");
                        for (JsonNode input : request.get("input")) {
                            final ArrayNode vector = embeddings.addArray();
                            for (double v : bagOfWords(input.asText())) {
                                vector.add(v);
                            }
                        }
                        return HttpResponse.of(HttpStatus.OK, MediaType.JSON, mapper.writeValueAsString(response));
                    } catch (Exception e) {
                        return HttpResponse.of(HttpStatus.BAD_REQUEST);
                    }
                }))).build();
        ollama.start().join();
    }

    @AfterAll
    static void stopOllama() {
        ollama.stop().join();
    }

    @Test
    void memoriesAreEmbeddedAndFoundThroughOllama() throws Exception {
        try (MemoryTestServer server = MemoryTestServer.fresh("ollama", section(8))) {
            server.store(tenant("t"), "The cat sleeps on the sofa");
            server.store(tenant("t"), "Invoices are due on Friday");
            final int afterStores = embedCalls.get();
            assertThat(afterStores).isGreaterThanOrEqualTo(2);

            final var hits = server.stub.searchMemories(SearchMemoriesRequest.newBuilder().setScope(tenant("t")).setQuery("sofa cat").build())
                                        .getHitsList();
            assertThat(hits).first().extracting(SearchHit::getMemory).satisfies(m ->
                    assertThat(m.getText()).contains("cat"));
            assertThat(hits).allSatisfy(h -> assertThat(h.getVectorRank()).isPositive()); // vectors from Ollama ranked
            assertThat(embedCalls.get()).isGreaterThan(afterStores); // the query was embedded by Ollama too
            assertThat(server.stub.getMemoryStats(GetMemoryStatsRequest.getDefaultInstance()).getEmbeddingModel())
                    .isEqualTo("ollama/fake-embed");
        }
    }

    @Test
    void aModelWithOtherDimensionsThanConfiguredIsRefused() {
        try (MemoryTestServer server = MemoryTestServer.fresh("ollama-dims", section(16))) {
            assertThatThrownBy(() -> server.store(tenant("t"), "anything"))
                    .hasMessageContaining("UNAVAILABLE").hasMessageContaining("dimension");
        }
    }

    @Test
    void aLedgerEmbeddedByAnotherModelRefusesToStartWithThisOne() throws Exception {
        final java.nio.file.Path home;
        try (MemoryTestServer bundled = MemoryTestServer.fresh("switch", "{}")) {
            bundled.store(tenant("t"), "stored with the bundled model");
            home = bundled.home;
        }
        java.nio.file.Files.writeString(home.resolve("config/sonia.json"),
                                        "{\"services\":{\"memory\":" + section(8) + "}}");
        assertThatThrownBy(() -> MemoryTestServer.reopen(home))
                .hasMessageContaining("bge-small-en-v1.5-q").hasMessageContaining("re-embedding is not supported");
    }

    private static String section(int dimensions) {
        return "{\"embedding\":{\"provider\":\"ollama\",\"model\":\"fake-embed\",\"dimensions\":" + dimensions
               + ",\"baseUrl\":\"http://127.0.0.1:" + ollama.activeLocalPort() + "\"}}";
    }

    /** A deterministic 8-dimension embedding: which of 8 word buckets the text's words fall in. */
    private static double[] bagOfWords(String text) {
        final double[] vector = new double[8];
        for (String word : text.toLowerCase().split("\\W+")) {
            if (!word.isEmpty()) {
                vector[Math.floorMod(word.hashCode(), 8)] += 1;
            }
        }
        return vector;
    }
}
