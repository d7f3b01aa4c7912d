package ai.sonia.gateway.domain;

import ai.sonia.runtime.errors.DomainException;
import at.favre.lib.crypto.bcrypt.BCrypt;
import at.favre.lib.crypto.bcrypt.LongPasswordStrategies;

/**
 * Passwords as bcrypt hashes at a configured cost. Longer than bcrypt's 72 bytes, a password is pre-hashed
 * with SHA-512 rather than silently truncated. Verifying an unknown user's password against a dummy hash
 * makes a wrong username cost the same time as a wrong password.
 */
final class Passwords {

    static final int MIN_LENGTH = 12;
    static final int MAX_LENGTH = 1024;
    private static final BCrypt.Version VERSION = BCrypt.Version.VERSION_2B;

    private final int cost;
    private volatile String dummyHash;

    Passwords(int cost) {
        if (cost < BCrypt.MIN_COST || cost > 16) {
            throw new IllegalArgumentException("bcryptCost: " + cost + " (expected: " + BCrypt.MIN_COST + "..16)");
        }
        this.cost = cost;
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
        return BCrypt.with(VERSION, LongPasswordStrategies.hashSha512(VERSION))
                     .hashToString(cost, password.toCharArray());
    }

    boolean verify(String password, String hash) {
        return BCrypt.verifyer(VERSION, LongPasswordStrategies.hashSha512(VERSION))
                     .verify(password.toCharArray(), hash).verified;
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
