package ai.sonia.gateway.domain;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;

/** Random ids and secrets, and the SHA-256 under which secrets are stored and compared. */
final class Tokens {

    private static final SecureRandom random = new SecureRandom();

    /** {@code bytes} random bytes, base64url without padding. */
    static String random(int bytes) {
        final byte[] b = new byte[bytes];
        random.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    /** A random id: a prefix and 16 hex digits ("usr_3f2a..."). */
    static String id(String prefix) {
        final byte[] b = new byte[8];
        random.nextBytes(b);
        return prefix + HexFormat.of().formatHex(b);
    }

    /** SHA-256 of a secret, hex. A 256-bit random secret needs no salt or stretching. */
    static String sha256(String secret) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                                                         .digest(secret.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Compares two hashes in time independent of where they differ. */
    static boolean sameHash(String a, String b) {
        return MessageDigest.isEqual(a.getBytes(StandardCharsets.US_ASCII), b.getBytes(StandardCharsets.US_ASCII));
    }

    private Tokens() {}
}
