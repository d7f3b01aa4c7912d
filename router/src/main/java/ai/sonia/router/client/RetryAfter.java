package ai.sonia.router.client;

import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;

import javax.annotation.Nullable;

/** Parses an HTTP Retry-After header: delay-seconds or an HTTP date (RFC 9110 §10.2.3). */
final class RetryAfter {

    @Nullable
    static Duration parse(@Nullable String value, Instant now) {
        if (value == null || value.isBlank()) {
            return null;
        }
        final String trimmed = value.trim();
        try {
            final long seconds = Long.parseLong(trimmed);
            return seconds < 0 ? null : Duration.ofSeconds(seconds);
        } catch (NumberFormatException notSeconds) {
            try {
                final Instant at = ZonedDateTime.parse(trimmed, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
                final Duration left = Duration.between(now, at);
                return left.isNegative() ? Duration.ZERO : left;
            } catch (DateTimeParseException notDate) {
                return null;
            }
        }
    }

    private RetryAfter() {}
}
