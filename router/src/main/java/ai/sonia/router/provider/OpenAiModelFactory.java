package ai.sonia.router.provider;

import ai.sonia.router.domain.Deployment;
import dev.langchain4j.http.client.HttpClientBuilder;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;

/** Any OpenAI-compatible {@code /chat/completions} endpoint (OpenRouter, vLLM, ...), plain and SSE. */
final class OpenAiModelFactory implements ModelFactory {

    @Override
    public ChatModel chatModel(Deployment deployment, HttpClientBuilder http) {
        return OpenAiChatModel.builder()
                              .maxRetries(0)
                              .httpClientBuilder(http)
                              .baseUrl(deployment.baseUrl())
                              .apiKey(deployment.apiKey())
                              .modelName(deployment.providerModel())
                              .timeout(deployment.timeout())
                              .build();
    }

    @Override
    public StreamingChatModel streamingModel(Deployment deployment, HttpClientBuilder http) {
        return OpenAiStreamingChatModel.builder()
                                       .httpClientBuilder(http)
                                       .baseUrl(deployment.baseUrl())
                                       .apiKey(deployment.apiKey())
                                       .modelName(deployment.providerModel())
                                       .timeout(deployment.timeout())
                                       .build();
    }
}
