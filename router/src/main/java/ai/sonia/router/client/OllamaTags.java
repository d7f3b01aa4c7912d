package ai.sonia.router.client;

import java.time.Duration;
import java.util.List;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.langchain4j.http.client.HttpClientBuilder;
import dev.langchain4j.model.ollama.OllamaModel;
import dev.langchain4j.model.ollama.OllamaModels;

/** What an Ollama server reports it has ({@code GET /api/tags}), or nothing when it cannot be reached. */
public final class OllamaTags {

    private static final Logger logger = LoggerFactory.getLogger(OllamaTags.class);

    private final OllamaModels models;
    private final String baseUrl;

    public OllamaTags(String baseUrl, HttpClientBuilder http) {
        this.baseUrl = baseUrl;
        models = OllamaModels.builder().httpClientBuilder(http).baseUrl(baseUrl).timeout(Duration.ofSeconds(2))
                            .maxRetries(0).build();
    }

    /** The model names, empty when Ollama is down. */
    public List<String> names() {
        try {
            return models.availableModels().content().stream().map(OllamaModel::getName).toList();
        } catch (RuntimeException e) {
            logger.atDebug().addKeyValue("base_url", baseUrl).log("Ollama /api/tags unavailable: {}", e.getMessage());
            return List.of();
        }
    }
}
