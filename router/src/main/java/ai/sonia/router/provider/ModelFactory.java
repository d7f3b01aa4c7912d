package ai.sonia.router.provider;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.time.Duration;
import java.util.function.Supplier;

import ai.sonia.router.domain.Deployment;
import dev.langchain4j.http.client.HttpClientBuilder;
import dev.langchain4j.model.anthropic.AnthropicChatModel;
import dev.langchain4j.model.anthropic.AnthropicStreamingChatModel;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.ollama.OllamaChatModel;
import dev.langchain4j.model.ollama.OllamaStreamingChatModel;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;

/**
 * Builds the LangChain4j models of one provider for a deployment, the same way for every provider: a
 * provider is named by its two builders only. LangChain4j's builders share their setters' names and types but
 * no supertype, so they are set by name: the router's HTTP client, the deployment's base URL, API key (where
 * the provider takes one), model and timeout; and on the plain model {@code maxRetries(0)}: the router is the
 * only retry layer.
 */
final class ModelFactory {

    /** Ollama's {@code /api/chat}, plain and NDJSON-streamed. */
    static final ModelFactory OLLAMA = new ModelFactory(OllamaChatModel::builder, OllamaStreamingChatModel::builder);
    /** Anthropic's Messages API, plain and SSE-streamed. */
    static final ModelFactory ANTHROPIC =
            new ModelFactory(AnthropicChatModel::builder, AnthropicStreamingChatModel::builder);
    /** Any OpenAI-compatible {@code /chat/completions} endpoint (OpenRouter, vLLM, ...), plain and SSE. */
    static final ModelFactory OPEN_AI = new ModelFactory(OpenAiChatModel::builder, OpenAiStreamingChatModel::builder);

    private final Supplier<?> chat;
    private final Supplier<?> streaming;

    private ModelFactory(Supplier<?> chat, Supplier<?> streaming) {
        this.chat = chat;
        this.streaming = streaming;
    }

    ChatModel chatModel(Deployment deployment, HttpClientBuilder http) {
        final Object builder = chat.get();
        set(builder, "maxRetries", Integer.class, 0, true);
        return (ChatModel) build(builder, deployment, http);
    }

    StreamingChatModel streamingModel(Deployment deployment, HttpClientBuilder http) {
        return (StreamingChatModel) build(streaming.get(), deployment, http);
    }

    private static Object build(Object builder, Deployment deployment, HttpClientBuilder http) {
        set(builder, "httpClientBuilder", HttpClientBuilder.class, http, true);
        set(builder, "baseUrl", String.class, deployment.baseUrl(), true);
        set(builder, "apiKey", String.class, deployment.apiKey(), false); // Ollama takes none
        set(builder, "modelName", String.class, deployment.providerModel(), true);
        set(builder, "timeout", Duration.class, deployment.timeout(), true);
        return invoke(builder, method(builder, "build"));
    }

    /** Calls the builder's setter {@code name(type)} with {@code value}; one that is not there fails if required. */
    private static <T> void set(Object builder, String name, Class<T> type, T value, boolean required) {
        final Method setter;
        try {
            setter = builder.getClass().getMethod(name, type);
        } catch (NoSuchMethodException e) {
            if (required) {
                throw new IllegalStateException(builder.getClass().getName() + " has no " + name + "(" + type.getName()
                                                + ")", e);
            }
            return;
        }
        invoke(builder, setter, value);
    }

    private static Method method(Object builder, String name) {
        try {
            return builder.getClass().getMethod(name);
        } catch (NoSuchMethodException e) {
            throw new IllegalStateException(builder.getClass().getName() + " has no " + name + "()", e);
        }
    }

    private static Object invoke(Object builder, Method method, Object... args) {
        try {
            return method.invoke(builder, args);
        } catch (InvocationTargetException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }
}
