package ai.sonia.runtime.client;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import ai.sonia.runtime.ServiceSpec;

/**
 * The gRPC service config of a service, generated from its contract: each method's default timeout,
 * and a retry policy (3 attempts, exponential backoff x1.5, only on UNAVAILABLE) for idempotent
 * methods only. Retries are throttled (a retry budget), so a sick service is not hammered.
 */
public final class ServiceConfigs {

    static final int MAX_ATTEMPTS = 3;
    static final String INITIAL_BACKOFF = "0.1s";
    static final String MAX_BACKOFF = "1s";
    static final double BACKOFF_MULTIPLIER = 1.5;

    /** The service config as the map grpc-java's {@code defaultServiceConfig} takes. */
    public static Map<String, Object> of(ServiceSpec spec) {
        final List<Object> methodConfigs = new ArrayList<>();
        for (com.google.protobuf.Descriptors.ServiceDescriptor api : spec.apis()) {
          for (com.google.protobuf.Descriptors.MethodDescriptor descriptor : api.getMethods()) {
            final String method = descriptor.getName();
            final Map<String, Object> name = Map.of("service", api.getFullName(), "method", method);
            final long deadline = spec.deadlineMillis(method);
            final java.util.HashMap<String, Object> config = new java.util.HashMap<>();
            config.put("name", List.of(name));
            if (deadline > 0) {
                config.put("timeout", seconds(deadline));
            }
            if (spec.idempotent(method)) {
                config.put("retryPolicy", Map.of(
                        "maxAttempts", (double) MAX_ATTEMPTS,
                        "initialBackoff", INITIAL_BACKOFF,
                        "maxBackoff", MAX_BACKOFF,
                        "backoffMultiplier", BACKOFF_MULTIPLIER,
                        "retryableStatusCodes", List.of("UNAVAILABLE")));
            }
            methodConfigs.add(config);
          }
        }
        // The retry budget: each failed attempt costs a token, each success earns half of one, and
        // retries stop while half the tokens are gone. Occasional failures (10%) keep their retries;
        // a dependency that fails every call stops being retried after about five failures.
        return Map.of("methodConfig", methodConfigs,
                      "retryThrottling", Map.of("maxTokens", 10.0, "tokenRatio", 0.5));
    }

    private static String seconds(long millis) {
        return millis % 1000 == 0 ? millis / 1000 + "s" : String.format(java.util.Locale.ROOT, "%.3fs", millis / 1000.0);
    }

    private ServiceConfigs() {}
}
