package ai.sonia.gateway.edge;

import java.time.Duration;

import com.fasterxml.jackson.databind.JsonNode;

import ai.sonia.gateway.domain.RateLimiter;

/**
 * The gateway's request limits, from {@code services.gateway.rateLimits} of the config file:
 * {@code {"perPrincipal": {"requests": 600, "perSeconds": 60}, "perIp": {"requests": 1200, "perSeconds": 60}}}.
 */
public record RateLimits(int principalRequests, double principalSeconds, int ipRequests, double ipSeconds) {

    public static final RateLimits DEFAULT = new RateLimits(600, 60, 1200, 60);

    public static RateLimits from(JsonNode gatewaySection) {
        final JsonNode limits = gatewaySection.path("rateLimits");
        return new RateLimits(limits.path("perPrincipal").path("requests").asInt(DEFAULT.principalRequests),
                              limits.path("perPrincipal").path("perSeconds").asDouble(DEFAULT.principalSeconds),
                              limits.path("perIp").path("requests").asInt(DEFAULT.ipRequests),
                              limits.path("perIp").path("perSeconds").asDouble(DEFAULT.ipSeconds));
    }

    RateLimiter.Limit perPrincipal() {
        return limit(principalRequests, principalSeconds);
    }

    RateLimiter.Limit perAddress() {
        return limit(ipRequests, ipSeconds);
    }

    private static RateLimiter.Limit limit(int requests, double seconds) {
        return new RateLimiter.Limit(requests, Duration.ofNanos((long) (seconds * 1e9)));
    }
}
