package ai.sonia.memory.domain;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * Opaque page tokens: the last id seen, bound to the query they came from, so a token cannot be replayed
 * against another tenant or listing.
 */
final class PageTokens {

    private PageTokens() {}

    static String next(String query, long lastId) {
        return Base64.getUrlEncoder().withoutPadding()
                     .encodeToString((Integer.toHexString(query.hashCode()) + ':' + lastId)
                                             .getBytes(StandardCharsets.UTF_8));
    }

    /** The id to continue below, 0 for the first page. */
    static long parse(String field, String token, String query) {
        if (token.isEmpty()) {
            return 0;
        }
        try {
            final String decoded = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
            final int colon = decoded.indexOf(':');
            if (colon > 0 && decoded.substring(0, colon).equals(Integer.toHexString(query.hashCode()))) {
                final long id = Long.parseLong(decoded.substring(colon + 1));
                if (id > 0) {
                    return id;
                }
            }
        } catch (IllegalArgumentException e) {
            // Falls through to the error below: NumberFormatException is an IllegalArgumentException too.
        }
        throw MemoryException.invalid(field, "malformed or from another query");
    }
}
