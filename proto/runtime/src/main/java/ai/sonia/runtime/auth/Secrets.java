package ai.sonia.runtime.auth;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import ai.sonia.runtime.OwnerOnlyFiles;
import ai.sonia.runtime.StackConfig;

/**
 * The stack's signing keys: one for users' access tokens, one for the credentials services show each other.
 * Each comes from the environment ({@code SONIA_JWT_SECRET}, {@code SONIA_SERVICE_SECRET}: 32 bytes or more,
 * base64) or, when unset, from {@code $SONIA_HOME/secrets/}, generated on first use with owner-only
 * permissions. Keys are never logged and never written to the config file.
 */
public final class Secrets {

    /** Bytes of a generated key: 256 bits, the HS256 key size. */
    static final int KEY_BYTES = 32;

    private static final SecureRandom random = new SecureRandom();
    private static final Map<Path, byte[]> generated = new ConcurrentHashMap<>();

    /** The key that signs and verifies users' access tokens. */
    public static byte[] accessTokenKey(StackConfig config) {
        return key(config, "SONIA_JWT_SECRET", "access-token.key");
    }

    /** The key that signs and verifies service credentials. */
    public static byte[] serviceKey(StackConfig config) {
        return key(config, "SONIA_SERVICE_SECRET", "service.key");
    }

    /**
     * The bearer that may read {@code /metrics} and nothing else, for a Prometheus scraper: {@code
     * SONIA_METRICS_TOKEN} or {@code secrets/metrics-token} (generated, owner-only; point the scraper's
     * {@code credentials_file} at it).
     */
    public static byte[] metricsToken(StackConfig config) {
        return key(config, "SONIA_METRICS_TOKEN", "metrics-token");
    }

    /** True when {@code bearer} is the metrics token (compared in constant time). */
    public static boolean isMetricsToken(byte[] metricsToken, String bearer) {
        if (bearer.isEmpty() || bearer.indexOf('.') >= 0) { // a JWT, never the metrics token
            return false;
        }
        try {
            return java.security.MessageDigest.isEqual(metricsToken, decode("bearer", bearer));
        } catch (IllegalArgumentException notBase64) {
            return false;
        }
    }

    /** The directory of generated secrets, owner-only. */
    public static Path directory(StackConfig config) {
        return config.home().resolve("secrets");
    }

    private static byte[] key(StackConfig config, String variable, String fileName) {
        final String fromEnv = config.env(variable);
        if (fromEnv != null && !fromEnv.isBlank()) {
            final byte[] key = decode(variable, fromEnv.trim());
            if (key.length < KEY_BYTES) {
                throw new IllegalArgumentException(variable + ": expected at least " + KEY_BYTES
                                                   + " bytes, base64-encoded; got " + key.length);
            }
            return key;
        }
        final Path file = directory(config).resolve(fileName);
        return generated.computeIfAbsent(file, Secrets::readOrCreate).clone();
    }

    private static byte[] decode(String variable, String value) {
        try {
            return Base64.getDecoder().decode(value);
        } catch (IllegalArgumentException e) {
            try {
                return Base64.getUrlDecoder().decode(value);
            } catch (IllegalArgumentException again) {
                throw new IllegalArgumentException(variable + ": not base64", again);
            }
        }
    }

    /** Reads the key file, or creates it atomically (several services may start at once). */
    private static byte[] readOrCreate(Path file) {
        try {
            if (!Files.exists(file)) {
                createOwnerOnlyDirectory(file.getParent());
                final byte[] key = new byte[KEY_BYTES];
                random.nextBytes(key);
                final Path temp = Files.createTempFile(file.getParent(), file.getFileName() + ".", ".tmp",
                                                       PosixFilePermissions.asFileAttribute(
                                                               PosixFilePermissions.fromString("rw-------")));
                try {
                    Files.writeString(temp, Base64.getEncoder().encodeToString(key) + '\n');
                    Files.createLink(file, temp); // fails when another process made it first: theirs wins
                } catch (FileAlreadyExistsException lostTheRace) {
                    // fall through and read the winner's key
                } finally {
                    Files.deleteIfExists(temp);
                }
            }
            return decode(file.toString(), Files.readString(file, StandardCharsets.US_ASCII).trim());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read or create the secret " + file, e);
        }
    }

    /** Makes a directory readable by its owner only. */
    public static void createOwnerOnlyDirectory(Path directory) throws IOException {
        OwnerOnlyFiles.directory(directory);
    }

    private Secrets() {}
}
