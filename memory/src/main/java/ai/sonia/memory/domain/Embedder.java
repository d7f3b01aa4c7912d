package ai.sonia.memory.domain;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import ai.sonia.common.v1.ErrorCode;
import ai.sonia.runtime.Threads;
import ai.sonia.runtime.embedding.BgeSmallEncoder;
import ai.sonia.runtime.errors.DomainException;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.ollama.OllamaEmbeddingModel;

/**
 * Computes embeddings in-process with the bundled, quantized BGE-small-en-v1.5 ONNX model (384 dimensions, no
 * network; the JVM's one {@link BgeSmallEncoder}, which the router shares), or with an Ollama model when
 * configured. The model loads on a background thread once the service listens, so the service answers
 * {@code /healthz} at once; the first embedding waits for it.
 *
 * <p>Concurrent requests are embedded together (micro-batching): one thread takes every text queued while the
 * previous batch ran, up to {@code maxBatch}, and hands them to the model at once (the bundled one runs them in
 * parallel, one run per core, or in one padded run). A lone request waits for nothing.
 */
public final class Embedder implements AutoCloseable {

    /** The model's name, as recorded beside every vector. */
    public static final String BUNDLED_MODEL = BgeSmallEncoder.MODEL_NAME;

    // BGE's documented instruction for short queries that look for passages.
    private static final String QUERY_INSTRUCTION = "Represent this sentence for searching relevant passages: ";

    private static final Logger logger = LoggerFactory.getLogger(Embedder.class);
    /** The longest {@link #close} waits for a model still loading. */
    static final Duration CLOSE_WAIT = Duration.ofSeconds(5);

    /** A model that embeds a batch of texts in one call. */
    @FunctionalInterface
    interface BatchModel {
        List<float[]> embed(List<String> texts);
    }

    private record Pending(String text, CompletableFuture<float[]> vector) {}

    private final String name;
    private final int dimensions;
    private final String queryInstruction;
    private final Supplier<BatchModel> factory;
    private final CompletableFuture<BatchModel> model = new CompletableFuture<>();
    private final AtomicBoolean loading = new AtomicBoolean();
    private final Duration loadTimeout;
    private final int maxBatch;
    private final BlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
    private volatile Thread worker;
    private volatile Thread loader;
    private volatile boolean closed;

    private Embedder(String name, int dimensions, String queryInstruction, Supplier<BatchModel> factory,
                     Duration loadTimeout, int maxBatch) {
        this.name = name;
        this.dimensions = dimensions;
        this.queryInstruction = queryInstruction;
        this.factory = factory;
        this.loadTimeout = loadTimeout;
        this.maxBatch = maxBatch;
    }

    /**
     * The bundled model, one instance per JVM, run with {@code threads} intra-op threads (0: ONNX Runtime's
     * default; the first to load it chooses); {@code padded}: the texts of a batch in padded runs
     * ({@link BgeSmallEncoder#embed}), else each alone, runs in parallel. It loads on {@link #startLoading()} or on
     * the first embedding.
     */
    public static Embedder bundled(Duration loadTimeout, int threads, int maxBatch, boolean padded) {
        return new Embedder(BUNDLED_MODEL, 384, QUERY_INSTRUCTION, () -> {
            final BgeSmallEncoder encoder = BgeSmallEncoder.shared(threads);
            return texts -> encoder.embed(texts, padded).stream().map(Embedder::normalize).toList();
        }, loadTimeout, maxBatch);
    }

    /**
     * An Ollama embedding model through LangChain4j's client (its own retries off: a failed embedding is
     * UNAVAILABLE to the caller, who may retry). Reached on {@link #startLoading()}, never at start-up.
     */
    public static Embedder ollama(String baseUrl, String model, int dimensions, Duration loadTimeout, int maxBatch) {
        return new Embedder("ollama/" + model, dimensions, "", () -> {
            final EmbeddingModel ollama = OllamaEmbeddingModel.builder().baseUrl(baseUrl).modelName(model)
                                                              .timeout(Duration.ofSeconds(30)).maxRetries(0).build();
            return texts -> ollama.embedAll(texts.stream().map(TextSegment::from).toList()).content().stream()
                                  .map(e -> normalize(e.vector())).toList();
        }, loadTimeout, maxBatch);
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
                final BatchModel loaded = factory.get();
                final int actual = loaded.embed(List.of("warm up")).get(0).length;
                if (actual != dimensions) {
                    throw new IllegalStateException(name + " makes " + actual + "-dimension vectors, not the "
                                                    + dimensions + " configured");
                }
                logger.atInfo().addKeyValue("model", name)
                      .addKeyValue("load_ms", (System.nanoTime() - start) / 1_000_000)
                      .log("Embedding model {} loaded", name);
                model.complete(loaded);
                worker = Threads.factory("memory-embedder").newThread(this::loop);
                worker.start();
            } catch (Throwable t) {
                if (closed || stopping()) {
                    // ONNX Runtime's own shutdown hook releases its environment under a load still running.
                    logger.info("Embedding model {} not loaded: the service is stopping", name);
                } else {
                    logger.error("Embedding model {} failed to load", name, t);
                }
                model.completeExceptionally(t);
            }
        });
        this.loader = loader;
        loader.start();
    }

    /** Whether the JVM is exiting: a shutdown hook can no longer be added then. */
    private static boolean stopping() {
        try {
            final Thread probe = new Thread(() -> {});
            Runtime.getRuntime().addShutdownHook(probe);
            Runtime.getRuntime().removeShutdownHook(probe);
            return false;
        } catch (IllegalStateException e) {
            return true;
        }
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
        return embedAll(List.of(text)).get(0);
    }

    /** The unit-length embedding of a search query. */
    public float[] embedQuery(String query) {
        return embed(queryInstruction + query);
    }

    /** Unit-length embeddings of many texts, in order; they join the next batches of the model. */
    public List<float[]> embedAll(List<String> texts) {
        loadedModel();
        if (closed) {
            throw unavailable("the embedder is closed", null);
        }
        final List<CompletableFuture<float[]>> vectors = new ArrayList<>(texts.size());
        for (String text : texts) {
            final Pending pending = new Pending(text, new CompletableFuture<>());
            queue.add(pending);
            vectors.add(pending.vector());
        }
        final List<float[]> result = new ArrayList<>(texts.size());
        for (CompletableFuture<float[]> vector : vectors) {
            try {
                result.add(vector.get());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw unavailable("interrupted while embedding", e);
            } catch (ExecutionException e) {
                throw unavailable("the embedding model failed: " + e.getCause().getMessage(), e);
            }
        }
        return result;
    }

    /** The model's thread: each run embeds every text queued meanwhile, up to {@code maxBatch}. */
    private void loop() {
        final BatchModel loaded = model.join();
        final List<Pending> batch = new ArrayList<>(maxBatch);
        while (true) {
            try {
                batch.add(queue.take());
            } catch (InterruptedException e) {
                return;
            }
            queue.drainTo(batch, maxBatch - 1);
            try {
                final List<float[]> vectors = loaded.embed(batch.stream().map(Pending::text).toList());
                for (int i = 0; i < batch.size(); i++) {
                    batch.get(i).vector().complete(vectors.get(i));
                }
            } catch (RuntimeException e) {
                if (batch.size() == 1) {
                    batch.get(0).vector().completeExceptionally(e);
                } else {
                    // One bad text must not fail the others: each again alone.
                    for (Pending pending : batch) {
                        try {
                            pending.vector().complete(loaded.embed(List.of(pending.text())).get(0));
                        } catch (RuntimeException alone) {
                            pending.vector().completeExceptionally(alone);
                        }
                    }
                }
            }
            batch.clear();
        }
    }

    /**
     * Stops the model's thread; embeddings still queued fail as UNAVAILABLE. A model still loading is waited for
     * (up to {@link #CLOSE_WAIT}): a JVM that exits while ONNX Runtime creates its session crashes (SIGSEGV in
     * libonnxruntime, an hs_err file), which a {@code down} right after {@code up} did.
     */
    @Override
    public void close() {
        closed = true;
        final Thread loading = loader;
        if (loading != null && loading != Thread.currentThread()) {
            try {
                loading.join(CLOSE_WAIT.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        final Thread thread = worker;
        if (thread != null) {
            thread.interrupt();
        }
        final IllegalStateException closed = new IllegalStateException("the embedder is closed");
        Pending pending;
        while ((pending = queue.poll()) != null) {
            pending.vector().completeExceptionally(closed);
        }
    }

    private BatchModel loadedModel() {
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

    /** The model (or an index) cannot serve now; the caller may retry (UNAVAILABLE). */
    static DomainException unavailable(String message, Exception cause) {
        final DomainException error = DomainException.of(ErrorCode.ERROR_CODE_UNAVAILABLE, message, Map.of());
        if (cause != null) {
            error.initCause(cause);
        }
        return error;
    }
}
