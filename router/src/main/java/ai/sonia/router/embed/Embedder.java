package ai.sonia.router.embed;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import ai.sonia.common.v1.ErrorCode;
import ai.sonia.runtime.Shared;
import ai.sonia.runtime.errors.DomainException;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.http.client.HttpClientBuilder;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.embedding.onnx.bgesmallenv15q.BgeSmallEnV15QuantizedEmbeddingModel;
import dev.langchain4j.model.ollama.OllamaEmbeddingModel;

/**
 * Embeds texts: by default with LangChain4j's bundled BGE-small ONNX model (offline, in process, loaded
 * on first use so that start-up stays fast, and one instance per JVM, shared with memory through
 * {@link Shared}), or with an Ollama model named {@code ollama/<model>}.
 */
public final class Embedder {

    /** The default model's name, as memory names the same model. */
    public static final String DEFAULT_MODEL = "bge-small-en-v1.5-q";
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
        final EmbeddingModel embeddingModel = models.computeIfAbsent(name, this::newModel);
        final List<Embedding> embeddings;
        try {
            embeddings = embeddingModel.embedAll(inputs.stream().map(TextSegment::from).toList()).content();
        } catch (RuntimeException e) {
            throw DomainException.of(ErrorCode.ERROR_CODE_UNAVAILABLE,
                                       "embedding model " + name + " failed: " + e.getMessage(), Map.of("model", name));
        }
        return new Result(name, embeddings.stream().map(Embedding::vector).toList());
    }

    private EmbeddingModel newModel(String name) {
        if (DEFAULT_MODEL.equals(name)) {
            return Shared.get("embedding/" + DEFAULT_MODEL, BgeSmallEnV15QuantizedEmbeddingModel::new);
        }
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
