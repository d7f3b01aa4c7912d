package ai.sonia.router.client;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;

import com.linecorp.armeria.client.ClientFactory;
import com.linecorp.armeria.client.RequestOptions;
import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpHeaders;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.RequestHeaders;
import com.linecorp.armeria.common.RequestHeadersBuilder;
import com.linecorp.armeria.common.ResponseHeaders;
import com.linecorp.armeria.common.SplitHttpResponse;

import dev.langchain4j.exception.HttpException;
import dev.langchain4j.http.client.HttpClient;
import dev.langchain4j.http.client.HttpClientBuilder;
import dev.langchain4j.http.client.HttpRequest;
import dev.langchain4j.http.client.SuccessfulHttpResponse;
import dev.langchain4j.http.client.sse.ServerSentEventListener;
import dev.langchain4j.http.client.sse.ServerSentEventParser;

/**
 * The HTTP client under every LangChain4j provider model: Armeria's non-blocking client on the server's
 * own event loops (one connection pool for all providers; plain-HTTP endpoints such as Ollama over
 * HTTP/1.1, TLS ones negotiating HTTP/2). It keeps the response's {@code Retry-After} on errors
 * (LangChain4j's own client drops headers) and reports a stream cut in the middle as an error rather
 * than as its end.
 */
public final class ProviderHttpClient implements HttpClient {

    // A stream may run far longer than one unary answer; the provider bounds each wait for the next token,
    // and this cap only ends streams that never finish.
    private static final int STREAM_TIMEOUT_FACTOR = 10;

    private final WebClient client;
    private final RequestOptions streamOptions;
    private final Executor streamExecutor;

    private ProviderHttpClient(WebClient client, Duration readTimeout, Executor streamExecutor) {
        this.client = client;
        streamOptions = RequestOptions.builder().responseTimeout(readTimeout.multipliedBy(STREAM_TIMEOUT_FACTOR))
                                      .build();
        this.streamExecutor = streamExecutor;
    }

    /** A builder whose clients share {@code factory}'s connections; streams are parsed on {@code streamExecutor}. */
    public static HttpClientBuilder builder(ClientFactory factory, Executor streamExecutor) {
        return new Builder(factory, streamExecutor);
    }

    @Override
    public SuccessfulHttpResponse execute(HttpRequest request) {
        final AggregatedHttpResponse response;
        try {
            response = client.execute(toArmeria(request)).aggregate().join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }
        final String body = response.contentUtf8();
        if (response.status().code() / 100 != 2) {
            throw failure(response.headers(), body);
        }
        return SuccessfulHttpResponse.builder()
                                     .statusCode(response.status().code())
                                     .headers(headerMap(response.headers()))
                                     .body(body)
                                     .build();
    }

    @Override
    public void execute(HttpRequest request, ServerSentEventParser parser, ServerSentEventListener listener) {
        final SplitHttpResponse split = client.execute(toArmeria(request), streamOptions).split();
        split.headers().thenAccept(headers -> {
            if (headers.status().code() / 100 != 2) {
                split.body().collectBytes().handle((bytes, error) -> {
                    listener.onError(failure(headers, bytes == null ? "" : new String(bytes, StandardCharsets.UTF_8)));
                    return null;
                });
                return;
            }
            listener.onOpen(SuccessfulHttpResponse.builder().statusCode(headers.status().code())
                                                  .headers(headerMap(headers)).build());
            final InputStream body = split.body().toInputStream(data -> data);
            streamExecutor.execute(() -> parse(body, parser, listener));
        }).exceptionally(error -> {
            listener.onError(error instanceof CompletionException && error.getCause() != null ? error.getCause() : error);
            return null;
        });
    }

    private static void parse(InputStream body, ServerSentEventParser parser, ServerSentEventListener listener) {
        try (CutDetectingInputStream watched = new CutDetectingInputStream(body)) {
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

    private static HttpException failure(ResponseHeaders headers, String body) {
        return new ProviderHttpException(headers.status().code(), body,
                                         RetryAfter.parse(headers.get("retry-after"), Instant.now()));
    }

    private static Map<String, List<String>> headerMap(HttpHeaders headers) {
        final Map<String, List<String>> map = new LinkedHashMap<>();
        headers.forEach((name, value) -> map.computeIfAbsent(name.toString(), n -> new ArrayList<>())
                                            .add(value));
        return map;
    }

    private static com.linecorp.armeria.common.HttpRequest toArmeria(HttpRequest request) {
        final URI uri = URI.create(request.url());
        // Plain-HTTP providers (Ollama) speak HTTP/1.1: skip the h2c upgrade attempt.
        final String scheme = "http".equals(uri.getScheme()) ? "h1c" : uri.getScheme();
        final RequestHeadersBuilder headers =
                RequestHeaders.builder(HttpMethod.valueOf(request.method().name()),
                                       scheme + "://" + uri.getRawAuthority() + uri.getRawPath()
                                       + (uri.getRawQuery() == null ? "" : '?' + uri.getRawQuery()));
        request.headers().forEach((name, values) -> {
            if (!"content-length".equalsIgnoreCase(name) && !"host".equalsIgnoreCase(name)) {
                values.forEach(v -> headers.add(name, v));
            }
        });
        final String body = request.body();
        return body == null ? com.linecorp.armeria.common.HttpRequest.of(headers.build())
                            : com.linecorp.armeria.common.HttpRequest.of(headers.build(), HttpData.ofUtf8(body));
    }

    private static final class Builder implements HttpClientBuilder {
        private final ClientFactory factory;
        private final Executor streamExecutor;
        private Duration connectTimeout = Duration.ofSeconds(5);
        private Duration readTimeout = Duration.ofSeconds(60);

        Builder(ClientFactory factory, Executor streamExecutor) {
            this.factory = factory;
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
            // The read timeout bounds a whole unary exchange; streams are bounded per event by the provider.
            return new ProviderHttpClient(WebClient.builder().factory(factory).responseTimeout(readTimeout)
                                                   .maxResponseLength(0).build(), readTimeout, streamExecutor);
        }
    }
}
