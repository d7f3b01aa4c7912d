package ai.sonia.runtime.edge;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.cors.CorsService;

import ai.sonia.runtime.ConfigKey;
import ai.sonia.runtime.StackConfig;

/**
 * The browser-facing rules of every service, from the {@code "http"} section of the config: the security
 * headers put on each response, and which other origins may call it from a page (CORS; none by default).
 *
 * <pre>{@code
 * "http": { "cors": { "allowedOrigins": ["https://app.example"] },
 *           "securityHeaders": { "x-frame-options": "SAMEORIGIN" } }   // "" removes a default
 * }</pre>
 * {@code SONIA_CORS_ORIGINS} (comma-separated) overrides the origins.
 */
public record HttpPolicy(Map<String, String> securityHeaders, List<String> corsOrigins) {

    /** The defaults: no sniffing, no framing, no referrer, no caching of API answers, nothing loaded by a page. */
    static final Map<String, String> DEFAULT_HEADERS = Map.of(
            "x-content-type-options", "nosniff",
            "x-frame-options", "DENY",
            "referrer-policy", "no-referrer",
            "cache-control", "no-store",
            "content-security-policy", "default-src 'none'; frame-ancestors 'none'");

    /** The {@code "http"} section of the config file, each key declared once. */
    @ConfigKey("The browser-facing rules of every service.")
    public record Keys(
            @ConfigKey("Cross-origin calls from pages.") Cors cors,
            @ConfigKey(value = "Response headers by name, on top of the defaults; \"\" removes a default.",
                       element = "A header value.") Map<String, String> securityHeaders) {}

    public record Cors(@ConfigKey(value = "Origins whose pages may call (also SONIA_CORS_ORIGINS, comma-separated).",
                                  shown = "[]", env = "SONIA_CORS_ORIGINS") List<String> allowedOrigins) {}

    /** Reads the policy from the config. */
    public static HttpPolicy from(StackConfig config) {
        final Keys http = config.section("http", Keys.class);
        final Map<String, String> headers = new LinkedHashMap<>(DEFAULT_HEADERS);
        if (http.securityHeaders() != null) {
            http.securityHeaders().forEach((header, value) -> {
                final String name = header.toLowerCase(java.util.Locale.ROOT);
                if (value.isEmpty()) {
                    headers.remove(name);
                } else {
                    headers.put(name, value);
                }
            });
        }
        final List<String> origins = http.cors().allowedOrigins();
        return new HttpPolicy(Map.copyOf(headers), origins == null ? List.of() : List.copyOf(origins));
    }

    /** The CORS decorator, or null when no other origin is allowed (browsers then keep pages out). */
    public Function<? super HttpService, ? extends HttpService> corsDecorator() {
        if (corsOrigins.isEmpty()) {
            return null;
        }
        return CorsService.builder(corsOrigins)
                          .allowRequestMethods(HttpMethod.GET, HttpMethod.POST, HttpMethod.PUT, HttpMethod.DELETE,
                                               HttpMethod.PATCH)
                          .allowRequestHeaders(HttpHeaderNames.AUTHORIZATION, HttpHeaderNames.CONTENT_TYPE,
                                               "x-correlation-id", "x-grpc-web", "x-user-agent", "grpc-timeout")
                          .exposeHeaders("x-correlation-id", "retry-after", "grpc-status", "grpc-message")
                          .preflightResponseHeader("access-control-max-age", "600")
                          .newDecorator();
    }
}
