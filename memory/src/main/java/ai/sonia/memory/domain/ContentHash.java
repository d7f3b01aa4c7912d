package ai.sonia.memory.domain;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.text.Normalizer;
import java.util.HexFormat;
import java.util.regex.Pattern;

/** The identity of a memory's text: SHA-256 of the text in NFC with runs of white space collapsed. */
public final class ContentHash {

    private static final Pattern WHITESPACE = Pattern.compile("\\s+");

    private ContentHash() {}

    /** The normalized text that the hash is taken of. */
    public static String normalize(String text) {
        return WHITESPACE.matcher(Normalizer.normalize(text, Normalizer.Form.NFC)).replaceAll(" ").strip();
    }

    /** The hex SHA-256 of {@link #normalize(String)}. */
    public static String of(String text) {
        try {
            final MessageDigest digest = MessageDigest.getInstance("SHA-256");
            return HexFormat.of().formatHex(digest.digest(normalize(text).getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }
}
