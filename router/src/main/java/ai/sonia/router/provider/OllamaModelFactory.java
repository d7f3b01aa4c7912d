package ai.sonia.router.provider;

import ai.sonia.router.domain.Deployment;
import dev.langchain4j.http.client.HttpClientBuilder;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.ollama.OllamaChatModel;
import dev.langchain4j.model.ollama.OllamaStreamingChatModel;

/** Ollama's {@code /api/chat}, plain and NDJSON-streamed. */
final class OllamaModelFactory implements ModelFactory {

    @Override
    public ChatModel chatModel(Deployment deployment, HttpClientBuilder http) {
        return OllamaChatModel.builder()
                              .maxRetries(0)
                              .httpClientBuilder(http)
                              .baseUrl(deployment.baseUrl())
                              .modelName(deployment.providerModel())
                              .timeout(deployment.timeout())
                              .build();
    }

    @Override
    public StreamingChatModel streamingModel(Deployment deployment, HttpClientBuilder http) {
        return OllamaStreamingChatModel.builder()
                                       .httpClientBuilder(http)
                                       .baseUrl(deployment.baseUrl())
                                       .modelName(deployment.providerModel())
                                       .timeout(deployment.timeout())
                                       .build();
    }
}
