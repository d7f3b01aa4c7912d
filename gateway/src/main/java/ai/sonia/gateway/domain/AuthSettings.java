package ai.sonia.gateway.domain;

import java.time.Duration;
import java.util.Locale;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The gateway's account settings, from {@code services.gateway.auth} of the config file:
 * <pre>{@code
 * {"registration": "admin",            // or "open": anyone registers, into a tenant of their own
 *  "bcryptCost": 12,
 *  "accessTokenSeconds": 900, "refreshTokenDays": 14,
 *  "loginThrottle": {"maxFailures": 5, "windowSeconds": 900, "lockSeconds": 30, "maxLockSeconds": 900}}
 * }</pre>
 */
public record AuthSettings(boolean openRegistration, int bcryptCost, Duration accessTtl, Duration refreshTtl,
                           int maxLoginFailures, Duration failureWindow, Duration lock, Duration maxLock) {

    public static AuthSettings from(JsonNode gatewaySection) {
        final JsonNode auth = gatewaySection.path("auth");
        final String registration = auth.path("registration").asText("admin").toLowerCase(Locale.ROOT);
        if (!registration.equals("admin") && !registration.equals("open")) {
            throw new IllegalArgumentException(
                    "services.gateway.auth.registration: " + registration + " (expected: admin or open)");
        }
        final JsonNode throttle = auth.path("loginThrottle");
        final AuthSettings settings = new AuthSettings(
                registration.equals("open"),
                auth.path("bcryptCost").asInt(12),
                Duration.ofSeconds(auth.path("accessTokenSeconds").asLong(900)),
                Duration.ofDays(auth.path("refreshTokenDays").asLong(14)),
                throttle.path("maxFailures").asInt(5),
                seconds(throttle.path("windowSeconds"), 900),
                seconds(throttle.path("lockSeconds"), 30),
                seconds(throttle.path("maxLockSeconds"), 900));
        if (settings.accessTtl.isNegative() || settings.accessTtl.isZero() || settings.maxLoginFailures < 1
            || settings.lock.isNegative() || settings.maxLock.compareTo(settings.lock) < 0) {
            throw new IllegalArgumentException("services.gateway.auth: invalid " + settings);
        }
        return settings;
    }

    private static Duration seconds(JsonNode node, double fallback) {
        return Duration.ofMillis((long) (node.asDouble(fallback) * 1000));
    }
}
