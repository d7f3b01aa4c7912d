package ai.sonia.openclaw.sandbox;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;

import com.linecorp.armeria.client.Endpoint;
import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.RequestHeaders;
import com.linecorp.armeria.common.RequestHeadersBuilder;
import com.linecorp.armeria.common.ResponseHeaders;
import com.linecorp.armeria.common.SessionProtocol;
import com.linecorp.armeria.common.SplitHttpResponse;

import ai.sonia.runtime.errors.DomainException;


/**
 * {@code http.fetch}: connects to the address {@link HostPolicy} checked (never resolving again),
 * follows at most five redirects, each one checked like the first URL, and keeps at most
 * {@code maxBytes} of the body (the rest is cancelled and the result marked truncated).
 */
public final class HttpFetcher {

    static final int MAX_REDIRECTS = 5;
    private static final Set<String> METHODS = Set.of("GET", "HEAD", "POST");
    private static final Set<String> FORBIDDEN_HEADERS = Set.of("host", "connection", "transfer-encoding",
                                                                "content-length", "upgrade", "proxy-authorization");

    private final HostPolicy policy;
    private final int maxBytes;
    private final Duration timeout;

    public HttpFetcher(HostPolicy policy, int maxBytes, Duration timeout) {
        this.policy = policy;
        this.maxBytes = maxBytes;
        this.timeout = timeout;
    }

    /** The outcome of a fetch. */
    public record Fetched(String finalUrl, int status, Map<String, String> headers, String body, boolean truncated,
                          int redirects) {}

    /** Fetches {@code url}; throws {@link DomainException} for a disallowed URL or redirect. */
    public Fetched fetch(String url, String method, Map<String, String> headers, String body) {
        final String verb = method.isEmpty() ? "GET" : method.toUpperCase(Locale.ROOT);
        if (!METHODS.contains(verb)) {
            throw DomainException.invalidArgument("arguments.method", "expected GET, HEAD or POST: " + method);
        }
        for (String name : headers.keySet()) {
            if (FORBIDDEN_HEADERS.contains(name.toLowerCase(Locale.ROOT))) {
                throw DomainException.invalidArgument("arguments.headers", "header not allowed: " + name);
            }
        }
        HostPolicy.Target target = policy.check(url, "arguments.url");
        String currentVerb = verb;
        String currentBody = body;
        for (int redirects = 0; ; redirects++) {
            final Exchange exchange = exchange(target, currentVerb, headers, currentBody);
            final int status = exchange.headers.status().code();
            final String location = exchange.headers.get("location");
            if (status / 100 != 3 || location == null) {
                final Map<String, String> out = new LinkedHashMap<>();
                exchange.headers.forEach((k, v) -> {
                    if (!k.toString().startsWith(":")) {
                        out.merge(k.toString(), v, (a, b) -> a + ", " + b);
                    }
                });
                return new Fetched(target.uri().toString(), status, out,
                                   new String(exchange.body, StandardCharsets.UTF_8), exchange.truncated, redirects);
            }
            if (redirects == MAX_REDIRECTS) {
                throw DomainException.invalidArgument("arguments.url", "more than " + MAX_REDIRECTS + " redirects");
            }
            final URI next = target.uri().resolve(location);
            try {
                target = policy.check(next.toString(), "arguments.url");
            } catch (DomainException e) {
                throw DomainException.invalidArgument("arguments.url", "redirect refused: " + e.fieldDescription());
            }
            if (status != 307 && status != 308) {
                currentVerb = currentVerb.equals("HEAD") ? "HEAD" : "GET";
                currentBody = "";
            }
        }
    }

    private record Exchange(ResponseHeaders headers, byte[] body, boolean truncated) {}

    private Exchange exchange(HostPolicy.Target target, String verb, Map<String, String> headers, String body) {
        final Endpoint endpoint = Endpoint.of(target.host(), target.port())
                                          .withIpAddr(target.address().getHostAddress());
        final WebClient client = WebClient.builder(target.tls() ? SessionProtocol.HTTPS : SessionProtocol.HTTP, endpoint)
                                          .responseTimeout(timeout)
                                          .maxResponseLength(0)
                                          .build();
        final String path = target.uri().getRawPath() == null || target.uri().getRawPath().isEmpty()
                            ? "/" : target.uri().getRawPath();
        final String pathAndQuery = target.uri().getRawQuery() == null ? path : path + '?' + target.uri().getRawQuery();
        final RequestHeadersBuilder request = RequestHeaders.builder(HttpMethod.valueOf(verb), pathAndQuery);
        headers.forEach(request::add);
        final HttpRequest req = body.isEmpty() ? HttpRequest.of(request.build())
                                               : HttpRequest.of(request.build(), HttpData.ofUtf8(body));
        final SplitHttpResponse split = client.execute(req).split();
        try {
            final ResponseHeaders responseHeaders = split.headers().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            final CappedBody capped = new CappedBody(maxBytes);
            split.body().subscribe(capped);
            final byte[] bytes = capped.done.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            return new Exchange(responseHeaders, bytes, capped.truncated);
        } catch (Exception e) {
            throw new FetchFailedException(target.uri() + ": " + rootMessage(e), e);
        }
    }

    private static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getClass().getSimpleName() + (root.getMessage() == null ? "" : ": " + root.getMessage());
    }

    /** The fetch could not complete (connection refused, timeout). */
    public static final class FetchFailedException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        FetchFailedException(String message, Throwable cause) {
            super(message, cause);
        }

        /** True when the target did not answer in time. */
        public boolean timedOut() {
            for (Throwable t = getCause(); t != null; t = t.getCause() == t ? null : t.getCause()) {
                if (t instanceof java.util.concurrent.TimeoutException
                    || t.getClass().getSimpleName().contains("Timeout")) {
                    return true;
                }
            }
            return false;
        }
    }

    private static final class CappedBody implements Subscriber<HttpData> {
        final CompletableFuture<byte[]> done = new CompletableFuture<>();
        private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        private final int max;
        private Subscription subscription;
        volatile boolean truncated;

        CappedBody(int max) {
            this.max = max;
        }

        @Override
        public void onSubscribe(Subscription s) {
            subscription = s;
            s.request(1);
        }

        @Override
        public void onNext(HttpData data) {
            final byte[] bytes = data.array();
            final int room = max - buffer.size();
            if (bytes.length > room) {
                buffer.write(bytes, 0, room);
                truncated = true;
                subscription.cancel();
                done.complete(buffer.toByteArray());
                return;
            }
            buffer.write(bytes, 0, bytes.length);
            subscription.request(1);
        }

        @Override
        public void onError(Throwable t) {
            if (!done.isDone()) {
                done.completeExceptionally(t);
            }
        }

        @Override
        public void onComplete() {
            done.complete(buffer.toByteArray());
        }
    }
}
