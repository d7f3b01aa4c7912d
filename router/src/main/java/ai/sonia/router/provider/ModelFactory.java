package ai.sonia.router.provider;

import ai.sonia.router.domain.Deployment;
import dev.langchain4j.http.client.HttpClientBuilder;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.StreamingChatModel;

/**
 * Builds the LangChain4j models of one provider for a deployment. Every model gets the router's HTTP
 * client and {@code maxRetries(0)}: the router is the only retry layer.
 */
interface ModelFactory {

    ChatModel chatModel(Deployment deployment, HttpClientBuilder http);

    StreamingChatModel streamingModel(Deployment deployment, HttpClientBuilder http);
}
