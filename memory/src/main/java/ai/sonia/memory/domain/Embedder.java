package ai.sonia.memory.domain;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import ai.sonia.common.v1.ErrorCode;
import ai.sonia.runtime.Shared;
import ai.sonia.runtime.Threads;
import ai.sonia.runtime.errors.DomainException;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.embedding.onnx.bgesmallenv15q.BgeSmallEnV15QuantizedEmbeddingModel;
import dev.langchain4j.model.ollama.OllamaEmbeddingModel;

/**
 * Computes embeddings in-process with LangChain4j's bundled, quantized BGE-small-en-v1.5 ONNX model (384
 * dimensions, no network), or with an Ollama model when configured. The model loads on a background thread once the service listens, so the
 * service answers {@code /healthz} at once; the first embedding waits for it.
 */
public final class Embedder {

    /** The model's name, as recorded beside every vector. */
    public static final String BUNDLED_MODEL = "bge-small-en-v1.5-q";

    // BGE's documented instruction for short queries that look for passages.
    private static final String QUERY_INSTRUCTION = "Represent this sentence for searching relevant passages: ";

    private static final Logger logger = LoggerFactory.getLogger(Embedder.class);

    private final String name;
    private final int dimensions;
    private final String queryInstruction;
    private final Supplier<EmbeddingModel> factory;
    private final CompletableFuture<EmbeddingModel> model = new CompletableFuture<>();
    private final AtomicBoolean loading = new AtomicBoolean();
    private final Duration loadTimeout;

    private Embedder(String name, int dimensions, String queryInstruction, Supplier<EmbeddingModel> factory,
                     Duration loadTimeout) {
        this.name = name;
        this.dimensions = dimensions;
        this.queryInstruction = queryInstruction;
        this.factory = factory;
        this.loadTimeout = loadTimeout;
    }

    /** The bundled model; it loads on {@link #startLoading()} or on the first embedding. */
    public static Embedder bundled(Duration loadTimeout) {
        // One instance per JVM, shared with every other service of the process that embeds with it.
        return new Embedder(BUNDLED_MODEL, 384, QUERY_INSTRUCTION,
                            () -> Shared.get("embedding/" + BUNDLED_MODEL, BgeSmallEnV15QuantizedEmbeddingModel::new),
                            loadTimeout);
    }

    /**
     * An Ollama embedding model through LangChain4j's client (its own retries off: a failed embedding is
     * UNAVAILABLE to the caller, who may retry). Reached on {@link #startLoading()}, never at start-up.
     */
    public static Embedder ollama(String baseUrl, String model, int dimensions, Duration loadTimeout) {
        return new Embedder("ollama/" + model, dimensions, "",
                            () -> OllamaEmbeddingModel.builder().baseUrl(baseUrl).modelName(model)
                                                      .timeout(Duration.ofSeconds(30)).maxRetries(0).build(),
                            loadTimeout);
    }

    /**
     * Starts loading the model on a background thread, once. The server calls it when it listens, so the
     * loading (seconds of CPU on two cores) does not delay the start.
     */
    public void startLoading() {
        if (!loading.compareAndSet(false, true)) {
            return;
        }
        final Thread loader = Threads.factory("memory-embedder-loader").newThread(() -> {
            final long start = System.nanoTime();
            try {
                final EmbeddingModel loaded = factory.get();
                final int actual = loaded.embed("warm up").content().dimension();
                if (actual != dimensions) {
                    throw new IllegalStateException(name + " makes " + actual + "-dimension vectors, not the "
                                                    + dimensions + " configured");
                }
                logger.atInfo().addKeyValue("model", name)
                      .addKeyValue("load_ms", (System.nanoTime() - start) / 1_000_000)
                      .log("Embedding model {} loaded", name);
                model.complete(loaded);
            } catch (Throwable t) {
                logger.error("Embedding model {} failed to load", name, t);
                model.completeExceptionally(t);
            }
        });
        loader.start();
    }

    /** Why embeddings cannot be made now (for {@code /readyz}), or null when they can. */
    public String problem() {
        if (!model.isDone()) {
            return "the embedding model " + name + " is loading";
        }
        return model.isCompletedExceptionally() ? "the embedding model " + name + " failed to load" : null;
    }

    /** The model's name. */
    public String model() {
        return name;
    }

    /** The unit-length embedding of a text to store. */
    public float[] embed(String text) {
        return normalize(loadedModel().embed(text).content().vector());
    }

    /** The unit-length embedding of a search query. */
    public float[] embedQuery(String query) {
        return embed(queryInstruction + query);
    }

    /** Unit-length embeddings of many texts in one batch (the model parallelises inside). */
    public List<float[]> embedAll(List<String> texts) {
        return loadedModel().embedAll(texts.stream().map(TextSegment::from).toList()).content().stream()
                      .map(e -> normalize(e.vector())).toList();
    }

    private EmbeddingModel loadedModel() {
        startLoading();
        try {
            return model.get(loadTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw unavailable("interrupted while the embedding model loads", e);
        } catch (ExecutionException e) {
            throw unavailable("the embedding model failed to load: " + e.getCause(), e);
        } catch (TimeoutException e) {
            throw unavailable("the embedding model is still loading", e);
        }
    }

    static float[] normalize(float[] vector) {
        double norm = 0;
        for (float v : vector) {
            norm += v * v;
        }
        final float scale = norm == 0 ? 1 : (float) (1 / Math.sqrt(norm));
        final float[] unit = new float[vector.length];
        for (int i = 0; i < vector.length; i++) {
            unit[i] = vector[i] * scale;
        }
        return unit;
    }

    /** The model cannot serve now; the caller may retry (UNAVAILABLE). */
    private static DomainException unavailable(String message, Exception cause) {
        final DomainException error = DomainException.of(ErrorCode.ERROR_CODE_UNAVAILABLE, message, Map.of());
        error.initCause(cause);
        return error;
    }
}
