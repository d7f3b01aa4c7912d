package ai.sonia.runtime.limits;

import java.time.Duration;

import ai.sonia.runtime.ConfigKey;

/**
 * A service's request limits, from {@code services.<name>.rateLimits} of the config file ({@link Keys}), a key every
 * service's section has.
 */
public record RateLimits(int principalRequests, double principalSeconds, int ipRequests, double ipSeconds) {

    public static final RateLimits DEFAULT = new RateLimits(600, 60, 1200, 60);

    /** The keys of {@code services.<name>.rateLimits}, each declared once. */
    public record Keys(@ConfigKey("A token bucket.") Window perPrincipal,
                       @ConfigKey("A token bucket.") Window perIp) {}

    public record Window(@ConfigKey(value = "Requests allowed per window.", shown = "600 per principal, 1200 per ip")
                         Integer requests,
                         @ConfigKey(value = "The window, in seconds.", def = "60") double perSeconds) {}

    public static RateLimits from(Keys limits) {
        return new RateLimits(orElse(limits.perPrincipal().requests(), DEFAULT.principalRequests),
                              limits.perPrincipal().perSeconds(),
                              orElse(limits.perIp().requests(), DEFAULT.ipRequests), limits.perIp().perSeconds());
    }

    private static int orElse(Integer value, int fallback) {
        return value != null ? value : fallback;
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
