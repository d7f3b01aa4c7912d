package ai.sonia.router.provider;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import ai.sonia.router.domain.ChatCall;
import ai.sonia.router.domain.ChatProvider;
import ai.sonia.router.domain.Completion;
import ai.sonia.router.domain.Deployment;
import ai.sonia.router.domain.ProviderFailure;
import dev.langchain4j.http.client.HttpClientBuilder;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.PartialResponse;
import dev.langchain4j.model.chat.response.PartialResponseContext;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.chat.response.StreamingHandle;

/** A provider reached through LangChain4j's client for it; models are built once per deployment. */
public final class LangChainProvider implements ChatProvider {

    private final ModelFactory factory;
    private final HttpClientBuilder http;
    private final Map<String, ChatModel> chatModels = new ConcurrentHashMap<>();
    private final Map<String, StreamingChatModel> streamingModels = new ConcurrentHashMap<>();

    private LangChainProvider(ModelFactory factory, HttpClientBuilder http) {
        this.factory = factory;
        this.http = http;
    }

    public static LangChainProvider ollama(HttpClientBuilder http) {
        return new LangChainProvider(ModelFactory.OLLAMA, http);
    }

    public static LangChainProvider anthropic(HttpClientBuilder http) {
        return new LangChainProvider(ModelFactory.ANTHROPIC, http);
    }

    public static LangChainProvider openAi(HttpClientBuilder http) {
        return new LangChainProvider(ModelFactory.OPEN_AI, http);
    }

    @Override
    public Completion chat(Deployment deployment, ChatCall call) {
        final ChatModel model = chatModels.computeIfAbsent(deployment.name(), n -> factory.chatModel(deployment, http));
        final ChatResponse response;
        try {
            response = model.chat(Conversations.toRequest(call));
        } catch (RuntimeException e) {
            throw FailureClassifier.classify(e);
        }
        return Conversations.toCompletion(response, deployment.providerModel());
    }

    @Override
    public Completion stream(Deployment deployment, ChatCall call, Consumer<String> onDelta) {
        final StreamingChatModel model =
                streamingModels.computeIfAbsent(deployment.name(), n -> factory.streamingModel(deployment, http));
        final BlockingQueue<Object> events = new LinkedBlockingQueue<>();
        final AtomicReference<StreamingHandle> handle = new AtomicReference<>();
        final StreamingChatResponseHandler handler = new StreamingChatResponseHandler() {
            @Override
            public void onPartialResponse(PartialResponse partial, PartialResponseContext context) {
                handle.set(context.streamingHandle());
                events.add(new Delta(partial.text()));
            }

            @Override
            public void onCompleteResponse(ChatResponse response) {
                events.add(response);
            }

            @Override
            public void onError(Throwable error) {
                events.add(error);
            }
        };
        try {
            model.chat(Conversations.toRequest(call), handler);
        } catch (RuntimeException e) {
            throw FailureClassifier.classify(e);
        }
        // The deployment's timeout bounds the wait for each event, so a stream that stalls, even after its
        // first token, ends as a TIMEOUT instead of hanging the caller.
        final Duration idle = deployment.timeout();
        while (true) {
            final Object event;
            try {
                event = events.poll(idle.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ProviderFailure(ProviderFailure.Kind.TIMEOUT, "interrupted", null, e);
            }
            if (event == null) {
                throw new ProviderFailure(ProviderFailure.Kind.TIMEOUT, "no token within " + idle.toMillis() + " ms",
                                          null, null);
            }
            if (event instanceof Delta delta) {
                try {
                    onDelta.accept(delta.text());
                } catch (RuntimeException e) {
                    stop(handle.get(), e);
                    throw e;
                }
            } else if (event instanceof ChatResponse response) {
                return Conversations.toCompletion(response, deployment.providerModel());
            } else {
                throw FailureClassifier.classify((Throwable) event);
            }
        }
    }

    /** Closes the provider's response, so it stops producing tokens nobody reads. */
    private static void stop(StreamingHandle handle, RuntimeException why) {
        try {
            handle.cancel();
        } catch (RuntimeException unsupported) {
            why.addSuppressed(unsupported); // a client without cancellation: the response runs out on its own
        }
    }

    private record Delta(String text) {}
}
