package ai.sonia.memory;

import java.time.Duration;
import java.util.List;
import java.util.Locale;

import ai.sonia.memory.domain.Embedder;
import ai.sonia.memory.domain.MemoryStore;
import ai.sonia.runtime.StackConfig;

/**
 * Which model embeds memories: the bundled offline ONNX model by default, or an Ollama model when
 * configured — {@code "services": {"memory": {"embedding": {"provider": "ollama", "model":
 * "nomic-embed-text", "dimensions": 768, "baseUrl": "http://127.0.0.1:11434"}}}} ({@code OLLAMA_BASE_URL}
 * is the default base URL). Vectors of two models cannot be compared, so a ledger that holds vectors of
 * another model refuses to start with the new one, saying which.
 */
record EmbeddingChoice(String provider, String model, int dimensions, String baseUrl) {

    static final int BUNDLED_DIMENSIONS = 384;

    static EmbeddingChoice from(MemoryConfig.Embedding section, StackConfig config) {
        final String provider = section.provider().toLowerCase(Locale.ROOT);
        switch (provider) {
            case "bundled" -> {
                return new EmbeddingChoice("bundled", Embedder.BUNDLED_MODEL, BUNDLED_DIMENSIONS, "");
            }
            case "ollama" -> {
                if (section.model() == null || section.model().isEmpty() || section.dimensions() == null
                    || section.dimensions() <= 0) {
                    throw new IllegalArgumentException(
                            "services.memory.embedding: an ollama model needs \"model\" and \"dimensions\" (got "
                            + section + ')');
                }
                final String env = config.env("OLLAMA_BASE_URL");
                final String baseUrl = section.baseUrl() != null ? section.baseUrl()
                                                                 : env != null ? env : "http://127.0.0.1:11434";
                return new EmbeddingChoice("ollama", section.model(), section.dimensions(), baseUrl);
            }
            default -> throw new IllegalArgumentException(
                    "services.memory.embedding.provider: " + provider + " (expected: bundled or ollama)");
        }
    }

    /** The name recorded beside each vector: the bundled model's, or {@code ollama/<model>}. */
    String recordedName() {
        return "ollama".equals(provider) ? "ollama/" + model : model;
    }

    Embedder embedder(Duration loadTimeout, int threads, int maxBatch, boolean padded) {
        return "ollama".equals(provider) ? Embedder.ollama(baseUrl, model, dimensions, loadTimeout, maxBatch)
                                         : Embedder.bundled(loadTimeout, threads, maxBatch, padded);
    }

    /** Refuses a ledger whose vectors come from another model. */
    void checkLedger(MemoryStore store) {
        final List<String> others = store.otherVectorModels(recordedName(), 3);
        if (!others.isEmpty()) {
            throw new IllegalStateException("the memory ledger holds vectors of " + others + ", not of "
                                            + recordedName() + "; re-embedding is not supported: keep the "
                                            + "embedding model of this ledger, or start with a new data directory");
        }
    }
}
