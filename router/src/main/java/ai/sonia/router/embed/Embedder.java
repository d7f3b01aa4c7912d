package ai.sonia.router.embed;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import ai.sonia.common.v1.ErrorCode;
import ai.sonia.runtime.embedding.BgeSmallEncoder;
import ai.sonia.runtime.errors.DomainException;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.http.client.HttpClientBuilder;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.ollama.OllamaEmbeddingModel;

/**
 * Embeds texts: by default with the bundled BGE-small ONNX model (offline, in process, loaded on first use so
 * that start-up stays fast; the JVM's one {@link BgeSmallEncoder}, which memory shares), or with an Ollama model
 * named {@code ollama/<model>}.
 */
public final class Embedder {

    /** The default model's name, as memory names the same model. */
    public static final String DEFAULT_MODEL = BgeSmallEncoder.MODEL_NAME;
    /** The name the router used for it before; still accepted. */
    private static final String FORMER_DEFAULT_NAME = "bge-small-en-v15-q";
    static final int MAX_INPUTS = 256;
    static final int MAX_INPUT_CHARS = 16_384;
    private static final String OLLAMA_PREFIX = "ollama/";

    private final String ollamaBaseUrl;
    private final HttpClientBuilder http;
    private final Duration timeout;
    private final Map<String, EmbeddingModel> models = new ConcurrentHashMap<>();

    public Embedder(String ollamaBaseUrl, HttpClientBuilder http, Duration timeout) {
        this.ollamaBaseUrl = ollamaBaseUrl;
        this.http = http;
        this.timeout = timeout;
    }

    /** The model's name and one vector per input, in order. */
    public record Result(String model, List<float[]> vectors) {}

    public Result embed(List<String> inputs, String model) {
        validate(inputs);
        final String name = model.isEmpty() || FORMER_DEFAULT_NAME.equals(model) ? DEFAULT_MODEL : model;
        final EmbeddingModel ollama = DEFAULT_MODEL.equals(name) ? null : models.computeIfAbsent(name, this::ollama);
        try {
            if (ollama == null) {
                // Each text alone, as LangChain4j's in-process model ran it before: the same vectors.
                return new Result(name, BgeSmallEncoder.shared(BgeSmallEncoder.DEFAULT_THREADS).embed(inputs, false).stream()
                                                       .map(Embedder::unit).toList());
            }
            return new Result(name, ollama.embedAll(inputs.stream().map(TextSegment::from).toList()).content()
                                          .stream().map(Embedding::vector).toList());
        } catch (RuntimeException e) {
            throw DomainException.of(ErrorCode.ERROR_CODE_UNAVAILABLE,
                                       "embedding model " + name + " failed: " + e.getMessage(), Map.of("model", name));
        }
    }

    /**
     * The vector scaled to unit length with LangChain4j's rounding ({@code OnnxBertBiEncoder.normalize}: a float
     * sum of squares, each component divided by its root), which the router's embeddings were made with.
     */
    static float[] unit(float[] vector) {
        float squares = 0;
        for (float v : vector) {
            squares += v * v;
        }
        final float norm = (float) Math.sqrt(squares);
        final float[] unit = new float[vector.length];
        for (int i = 0; i < vector.length; i++) {
            unit[i] = vector[i] / norm;
        }
        return unit;
    }

    private EmbeddingModel ollama(String name) {
        if (name.startsWith(OLLAMA_PREFIX) && name.length() > OLLAMA_PREFIX.length()) {
            return OllamaEmbeddingModel.builder()
                                       .httpClientBuilder(http)
                                       .baseUrl(ollamaBaseUrl)
                                       .modelName(name.substring(OLLAMA_PREFIX.length()))
                                       .timeout(timeout)
                                       .maxRetries(0)
                                       .build();
        }
        throw DomainException.invalidArgument("model", "unknown embedding model: " + name + " (expected: "
                                                 + DEFAULT_MODEL + " or ollama/<model>)");
    }

    private static void validate(List<String> inputs) {
        if (inputs.isEmpty()) {
            throw DomainException.invalidArgument("inputs", "at least one input is required");
        }
        if (inputs.size() > MAX_INPUTS) {
            throw DomainException.invalidArgument("inputs", inputs.size() + " inputs (expected: <= " + MAX_INPUTS + ")");
        }
        for (int i = 0; i < inputs.size(); i++) {
            final String text = inputs.get(i);
            if (text.isBlank()) {
                throw DomainException.invalidArgument("inputs[" + i + "]", "must not be blank");
            }
            if (text.length() > MAX_INPUT_CHARS) {
                throw DomainException.invalidArgument("inputs[" + i + "]",
                                                text.length() + " characters (expected: <= " + MAX_INPUT_CHARS + ")");
            }
        }
    }
}
