package ai.sonia.gateway.domain;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import ai.sonia.common.v1.ErrorCode;
import ai.sonia.runtime.errors.DomainException;
import at.favre.lib.crypto.bcrypt.BCrypt;
import at.favre.lib.crypto.bcrypt.LongPasswordStrategies;

/**
 * Passwords as bcrypt hashes at a configured cost. Longer than bcrypt's 72 bytes, a password is pre-hashed
 * with SHA-512 rather than silently truncated. Verifying an unknown user's password against a dummy hash
 * makes a wrong username cost the same time as a wrong password.
 *
 * <p>Each hash or check costs a few hundred milliseconds of CPU by design, so at most {@link #DEFAULT_AT_ONCE}
 * (half the cores) run at once: a client that logs in (or registers, or changes a password) as fast as its rate
 * limits allow takes at most that share of the machine, and every other request keeps the rest. A call that
 * cannot start within {@code wait} is refused RATE_LIMITED with a Retry-After of one second.
 */
final class Passwords {

    static final int MIN_LENGTH = 12;
    static final int MAX_LENGTH = 1024;
    static final int DEFAULT_AT_ONCE = Math.max(1, Runtime.getRuntime().availableProcessors() / 2);
    static final Duration DEFAULT_WAIT = Duration.ofSeconds(5);
    private static final BCrypt.Version VERSION = BCrypt.Version.VERSION_2B;

    private final int cost;
    private final Semaphore atOnce;
    private final Duration wait;
    private final CurrentRequest request;
    private volatile String dummyHash;

    Passwords(int cost, CurrentRequest request) {
        this(cost, DEFAULT_AT_ONCE, DEFAULT_WAIT, request);
    }

    Passwords(int cost, int atOnce, Duration wait, CurrentRequest request) {
        if (cost < BCrypt.MIN_COST || cost > 16) {
            throw new IllegalArgumentException("bcryptCost: " + cost + " (expected: " + BCrypt.MIN_COST + "..16)");
        }
        this.cost = cost;
        this.atOnce = new Semaphore(atOnce, true);
        this.wait = wait;
        this.request = request;
    }

    /** INVALID_ARGUMENT unless the password is long enough (and not absurdly long). */
    static void validate(String field, String password) {
        if (password.length() < MIN_LENGTH) {
            throw DomainException.invalidArgument(field,
                                         "must be at least " + MIN_LENGTH + " characters long");
        }
        if (password.length() > MAX_LENGTH) {
            throw DomainException.invalidArgument(field, "must be at most " + MAX_LENGTH + " characters");
        }
    }

    String hash(String password) {
        return withPermit(() -> BCrypt.with(VERSION, LongPasswordStrategies.hashSha512(VERSION))
                                      .hashToString(cost, password.toCharArray()));
    }

    boolean verify(String password, String hash) {
        return withPermit(() -> BCrypt.verifyer(VERSION, LongPasswordStrategies.hashSha512(VERSION))
                                      .verify(password.toCharArray(), hash).verified);
    }

    /** Runs {@code work} once one of the permits is free; RATE_LIMITED when none is within the wait. */
    <T> T withPermit(Supplier<T> work) {
        try {
            if (!atOnce.tryAcquire(wait.toMillis(), TimeUnit.MILLISECONDS)) {
                request.retryAfter(1);
                throw DomainException.of(ErrorCode.ERROR_CODE_RATE_LIMITED,
                                         "too many passwords are being checked at once; try again in 1 s",
                                         Map.of("limit", "password_checks", "retry_after_seconds", "1"));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting to check a password", e);
        }
        try {
            return work.get();
        } finally {
            atOnce.release();
        }
    }

    /** Spends the time of one verification, for a user that does not exist. */
    void verifyDummy(String password) {
        String dummy = dummyHash;
        if (dummy == null) {
            dummy = dummyHash = hash(Tokens.random(16));
        }
        verify(password, dummy);
    }
}
