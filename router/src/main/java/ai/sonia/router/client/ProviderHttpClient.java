package ai.sonia.router.client;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient.Version;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;

import dev.langchain4j.exception.HttpException;
import dev.langchain4j.http.client.HttpClient;
import dev.langchain4j.http.client.HttpClientBuilder;
import dev.langchain4j.http.client.HttpRequest;
import dev.langchain4j.http.client.SuccessfulHttpResponse;
import dev.langchain4j.http.client.sse.ServerSentEventListener;
import dev.langchain4j.http.client.sse.ServerSentEventParser;

/**
 * The HTTP client under every LangChain4j provider model: the JDK client over HTTP/1.1 that keeps the
 * response's {@code Retry-After} on errors (LangChain4j's own client drops headers) and reports a stream
 * cut in the middle as an error rather than as its end.
 */
public final class ProviderHttpClient implements HttpClient {

    private final java.net.http.HttpClient jdk;
    private final Duration readTimeout;
    private final Executor streamExecutor;

    private ProviderHttpClient(java.net.http.HttpClient jdk, Duration readTimeout, Executor streamExecutor) {
        this.jdk = jdk;
        this.readTimeout = readTimeout;
        this.streamExecutor = streamExecutor;
    }

    /** A builder sharing one JDK client (and its connection pool) across all models of the router. */
    public static HttpClientBuilder builder(java.net.http.HttpClient jdk, Executor streamExecutor) {
        return new Builder(jdk, streamExecutor);
    }

    /** The JDK client the router shares: HTTP/1.1 (what Ollama speaks) with a bounded connect time. */
    public static java.net.http.HttpClient newJdkClient(Duration connectTimeout, Executor executor) {
        return java.net.http.HttpClient.newBuilder()
                                       .version(Version.HTTP_1_1)
                                       .connectTimeout(connectTimeout)
                                       .executor(executor)
                                       .build();
    }

    @Override
    public SuccessfulHttpResponse execute(HttpRequest request) {
        try {
            final HttpResponse<byte[]> response = jdk.send(toJdk(request), BodyHandlers.ofByteArray());
            final String body = new String(response.body(), StandardCharsets.UTF_8);
            if (response.statusCode() / 100 != 2) {
                throw failure(response, body);
            }
            return SuccessfulHttpResponse.builder()
                                         .statusCode(response.statusCode())
                                         .headers(response.headers().map())
                                         .body(body)
                                         .build();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    @Override
    public void execute(HttpRequest request, ServerSentEventParser parser, ServerSentEventListener listener) {
        jdk.sendAsync(toJdk(request), BodyHandlers.ofInputStream())
           .thenAcceptAsync(response -> stream(response, parser, listener), streamExecutor)
           .exceptionally(error -> {
               listener.onError(error.getCause() != null ? error.getCause() : error);
               return null;
           });
    }

    private static void stream(HttpResponse<InputStream> response, ServerSentEventParser parser,
                               ServerSentEventListener listener) {
        try (InputStream body = response.body()) {
            if (response.statusCode() / 100 != 2) {
                listener.onError(failure(response, new String(body.readAllBytes(), StandardCharsets.UTF_8)));
                return;
            }
            listener.onOpen(SuccessfulHttpResponse.builder()
                                                  .statusCode(response.statusCode())
                                                  .headers(response.headers().map())
                                                  .build());
            final CutDetectingInputStream watched = new CutDetectingInputStream(body);
            parser.parse(watched, listener);
            if (watched.cut() != null) {
                listener.onError(watched.cut());
                return;
            }
            listener.onClose();
        } catch (IOException | RuntimeException e) {
            listener.onError(e);
        }
    }

    private static HttpException failure(HttpResponse<?> response, String body) {
        return new ProviderHttpException(response.statusCode(), body,
                                         RetryAfter.parse(response.headers().firstValue("retry-after").orElse(null),
                                                          Instant.now()));
    }

    private java.net.http.HttpRequest toJdk(HttpRequest request) {
        final java.net.http.HttpRequest.Builder builder =
                java.net.http.HttpRequest.newBuilder(URI.create(request.url())).timeout(readTimeout);
        for (Map.Entry<String, List<String>> header : request.headers().entrySet()) {
            for (String value : header.getValue()) {
                builder.header(header.getKey(), value);
            }
        }
        final String body = request.body();
        builder.method(request.method().name(),
                       body == null ? java.net.http.HttpRequest.BodyPublishers.noBody()
                                    : java.net.http.HttpRequest.BodyPublishers.ofString(body));
        return builder.build();
    }

    private static final class Builder implements HttpClientBuilder {
        private final java.net.http.HttpClient jdk;
        private final Executor streamExecutor;
        private Duration connectTimeout = Duration.ofSeconds(5);
        private Duration readTimeout = Duration.ofSeconds(60);

        Builder(java.net.http.HttpClient jdk, Executor streamExecutor) {
            this.jdk = jdk;
            this.streamExecutor = streamExecutor;
        }

        @Override
        public Duration connectTimeout() {
            return connectTimeout;
        }

        @Override
        public HttpClientBuilder connectTimeout(Duration timeout) {
            if (timeout != null) {
                connectTimeout = timeout;
            }
            return this;
        }

        @Override
        public Duration readTimeout() {
            return readTimeout;
        }

        @Override
        public HttpClientBuilder readTimeout(Duration timeout) {
            if (timeout != null) {
                readTimeout = timeout;
            }
            return this;
        }

        @Override
        public HttpClient build() {
            return new ProviderHttpClient(jdk, readTimeout, streamExecutor);
        }
    }
}
