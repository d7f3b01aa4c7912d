package ai.sonia.gateway.domain;

import java.time.Duration;
import java.util.Locale;

import ai.sonia.runtime.ConfigKey;

/**
 * The gateway's account settings, from {@code services.gateway.auth} of the config file ({@link Keys});
 * {@code "registration": "open"} lets anyone register, into a tenant of their own.
 */
public record AuthSettings(boolean openRegistration, int bcryptCost, Duration accessTtl, Duration refreshTtl,
                           int maxLoginFailures, Duration failureWindow, Duration lock, Duration maxLock,
                           int maxApiKeysPerUser, int loginsPerMinute, int registrationsPerHour) {

    /** The keys of {@code services.gateway.auth}, each declared once. */
    public record Keys(
            @ConfigKey(value = "Who may sign up: admin or open.", def = "admin") String registration,
            @ConfigKey(value = "The bcrypt cost of password hashes.", def = "12") int bcryptCost,
            @ConfigKey(value = "Access token lifetime.", def = "900") long accessTokenSeconds,
            @ConfigKey(value = "Refresh token lifetime.", def = "14") long refreshTokenDays,
            @ConfigKey("Failed logins per user name and address.") LoginThrottle loginThrottle,
            @ConfigKey(value = "Sign-ups per address and hour with open registration (each makes a tenant and costs a "
                               + "password hash); more are RATE_LIMITED with Retry-After. An admin's registrations "
                               + "are not counted.", def = "10") int registrationsPerHour,
            @ConfigKey(value = "Live API keys one user may hold; more are RATE_LIMITED (api_keys_per_user) until one is "
                               + "revoked.", def = "100") int maxApiKeysPerUser) {}

    public record LoginThrottle(@ConfigKey(value = "Failures before a lock.", def = "5") int maxFailures,
                                @ConfigKey(value = "Window the failures count in.", def = "900") double windowSeconds,
                                @ConfigKey(value = "The first lock.", def = "30") double lockSeconds,
                                @ConfigKey(value = "The longest lock.", def = "900") double maxLockSeconds,
                                @ConfigKey(value = "Logins per address and minute, successful or not (each costs a password"
                                                   + " check); more are RATE_LIMITED with Retry-After.", def = "30")
                                int loginsPerMinute) {}

    public static AuthSettings from(Keys auth) {
        final String registration = auth.registration().toLowerCase(Locale.ROOT);
        if (!registration.equals("admin") && !registration.equals("open")) {
            throw new IllegalArgumentException(
                    "services.gateway.auth.registration: " + registration + " (expected: admin or open)");
        }
        final LoginThrottle throttle = auth.loginThrottle();
        final AuthSettings settings = new AuthSettings(
                registration.equals("open"), auth.bcryptCost(), Duration.ofSeconds(auth.accessTokenSeconds()),
                Duration.ofDays(auth.refreshTokenDays()), throttle.maxFailures(), seconds(throttle.windowSeconds()),
                seconds(throttle.lockSeconds()), seconds(throttle.maxLockSeconds()), auth.maxApiKeysPerUser(),
                throttle.loginsPerMinute(), auth.registrationsPerHour());
        if (settings.accessTtl.isNegative() || settings.accessTtl.isZero() || settings.maxLoginFailures < 1
            || settings.lock.isNegative() || settings.maxLock.compareTo(settings.lock) < 0
            || settings.maxApiKeysPerUser < 1 || settings.loginsPerMinute < 1
            || settings.registrationsPerHour < 1) {
            throw new IllegalArgumentException("services.gateway.auth: invalid " + settings);
        }
        return settings;
    }

    private static Duration seconds(double seconds) {
        return Duration.ofMillis((long) (seconds * 1000));
    }
}
