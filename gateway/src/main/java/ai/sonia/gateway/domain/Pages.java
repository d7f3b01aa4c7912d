package ai.sonia.gateway.domain;

import ai.sonia.runtime.errors.DomainException;

import java.nio.charset.StandardCharsets;
import java.util.Base64;


/** Page sizes and page tokens of the accounts lists (AIP-158): a size of 0..1000, an opaque cursor. */
final class Pages {

    private static final int DEFAULT_SIZE = 100;
    private static final int MAX_SIZE = 1000;

    /** The page size asked for, or the default for 0; INVALID_ARGUMENT outside 0..1000. */
    static int size(int pageSize) {
        if (pageSize < 0 || pageSize > MAX_SIZE) {
            throw DomainException.invalidArgument("page_size", pageSize + " (expected: 0.." + MAX_SIZE + ')');
        }
        return pageSize == 0 ? DEFAULT_SIZE : pageSize;
    }

    /** The cursor inside a page token ("" for the first page); INVALID_ARGUMENT for a token not of this API. */
    static String cursor(String pageToken) {
        try {
            return new String(Base64.getUrlDecoder().decode(pageToken), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw invalidToken();
        }
    }

    /** The page token of a cursor. */
    static String token(String cursor) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(cursor.getBytes(StandardCharsets.UTF_8));
    }

    static RuntimeException invalidToken() {
        return DomainException.invalidArgument("page_token", "not a token of this API");
    }

    private Pages() {}
}
