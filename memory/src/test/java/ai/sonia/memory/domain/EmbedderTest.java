package ai.sonia.memory.domain;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import ai.sonia.runtime.Shared;
import ai.sonia.runtime.embedding.BgeSmallEncoder;

/** The bundled model behind the micro-batching queue: concurrent texts share runs, each gets its own vector. */
class EmbedderTest {

    private static final Embedder embedder = Embedder.bundled(Duration.ofMinutes(2), 0, 4, false);
    private static final Embedder padded = Embedder.bundled(Duration.ofMinutes(2), 0, 4, true);

    @AfterAll
    static void close() {
        embedder.close();
        padded.close();
    }

    @Test
    void concurrentTextsAreEmbeddedTogetherEachAsAlone() {
        final List<String> texts = List.of("Ann likes green tea.", "The passport is in the top drawer.",
                                           "Bob's train leaves at nine.", "The cat is called Miso.",
                                           "A longer text, so that the batch is padded to its length: the user booked"
                                           + " a table for four at the Italian place near the station.",
                                           "Tea.");
        final List<float[]> alone = texts.stream().map(embedder::embed).toList();
        final ExecutorService callers = Executors.newFixedThreadPool(texts.size());
        try {
            final List<CompletableFuture<float[]>> together = new ArrayList<>();
            for (String text : texts) {
                together.add(CompletableFuture.supplyAsync(() -> embedder.embed(text), callers));
            }
            for (int i = 0; i < texts.size(); i++) {
                final float[] vector = together.get(i).join();
                assertThat(vector).hasSize(384);
                // Each text is run alone (the runs in parallel): the vector it has alone.
                assertThat(vector).containsExactly(alone.get(i));
                for (int j = 0; j < texts.size(); j++) {
                    if (j != i) {
                        assertThat(TenantVectors.dot(vector, alone.get(j), 0, 384)).isLessThan(0.98f);
                    }
                }
            }
        } finally {
            callers.shutdownNow();
        }
        // More texts than a batch holds, in order.
        final List<float[]> all = embedder.embedAll(texts);
        for (int i = 0; i < texts.size(); i++) {
            assertThat(all.get(i)).containsExactly(alone.get(i));
        }
        // Padded runs: the quantized model rounds a text a little differently beside others.
        final List<float[]> inPaddedRuns = padded.embedAll(texts);
        for (int i = 0; i < texts.size(); i++) {
            assertThat(TenantVectors.dot(inPaddedRuns.get(i), alone.get(i), 0, 384)).isGreaterThan(0.98f);
        }
    }

    @Test
    void closeReturnsWithNoModelLoadUnderWay() {
        // A JVM that exits while ONNX Runtime creates its session crashes: close waits for the load to end.
        final Embedder loading = Embedder.bundled(Duration.ofMinutes(2), 0, 4, false);
        loading.startLoading();
        loading.close();
        assertThat(loading.problem()).isNull();
    }

    @Test
    void theBundledModelIsTheJvmsOneInstanceWhichTheRouterUsesToo() {
        embedder.embed("warm up");
        padded.embed("warm up");
        // Both embedders run the JVM's one encoder, under the key the router's Embed loads it with too.
        assertThat(Shared.<Object>get("embedding/bge-small-en-v1.5-q", () -> {
            throw new AssertionError("memory did not load the shared model");
        })).isSameAs(BgeSmallEncoder.shared(0));
    }
}
