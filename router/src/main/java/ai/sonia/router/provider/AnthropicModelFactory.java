package ai.sonia.router.provider;

import ai.sonia.router.domain.Deployment;
import dev.langchain4j.http.client.HttpClientBuilder;
import dev.langchain4j.model.anthropic.AnthropicChatModel;
import dev.langchain4j.model.anthropic.AnthropicStreamingChatModel;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.StreamingChatModel;

/** Anthropic's Messages API, plain and SSE-streamed. */
final class AnthropicModelFactory implements ModelFactory {

    @Override
    public ChatModel chatModel(Deployment deployment, HttpClientBuilder http) {
        return AnthropicChatModel.builder()
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
        return AnthropicStreamingChatModel.builder()
                                          .httpClientBuilder(http)
                                          .baseUrl(deployment.baseUrl())
                                          .apiKey(deployment.apiKey())
                                          .modelName(deployment.providerModel())
                                          .timeout(deployment.timeout())
                                          .build();
    }
}
