package ai.sonia.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;

import ai.sonia.runtime.Shared;
import ai.sonia.runtime.embedding.BgeSmallEncoder;

/** Router and memory in one JVM, as {@code scripts/sonia up} runs them, load the bundled embedding model once. */
class OneEmbeddingModelTest {

    @Test
    void routerAndMemoryRunTheJvmsOneEncoder() {
        final String text = "The cat is called Miso.";
        try (ai.sonia.memory.domain.Embedder memory = ai.sonia.memory.domain.Embedder.bundled(Duration.ofMinutes(2),
                                                                                               0, 4, false)) {
            final float[] stored = memory.embed(text);
            // BgeSmallEncoder's only maker is Shared: what holds the key is the JVM's one instance.
            final Object loaded = Shared.get("embedding/bge-small-en-v1.5-q", () -> {
                throw new AssertionError("memory did not load the shared model");
            });
            final ai.sonia.router.embed.Embedder router = new ai.sonia.router.embed.Embedder("http://127.0.0.1:9", null,
                                                                                            Duration.ofSeconds(1));
            final ai.sonia.router.embed.Embedder.Result embedded = router.embed(List.of(text), "");
            assertThat(embedded.model()).isEqualTo(memory.model());
            assertThat(BgeSmallEncoder.shared(0)).isSameAs(loaded);
            // The same model: memory and the router only round the unit vector differently.
            double dot = 0;
            for (int d = 0; d < stored.length; d++) {
                dot += stored[d] * embedded.vectors().get(0)[d];
            }
            assertThat(dot).isCloseTo(1, within(1e-6));
        }
    }
}
