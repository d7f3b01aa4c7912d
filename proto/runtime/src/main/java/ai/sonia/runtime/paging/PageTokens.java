package ai.sonia.runtime.paging;

import static java.util.Objects.requireNonNull;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Optional;

import ai.sonia.runtime.errors.DomainException;

/**
 * The page tokens of every List method (AIP-158): opaque, keyset-based, bound to the query.
 *
 * <p>A token carries the sort key of the last item of the page ({@code lastKey}: one string per ordering
 * column, e.g. {@code [create_ms, id]}); the next page starts strictly after it, so rows inserted meanwhile
 * are neither skipped nor repeated (an offset would). It also carries a hash of {@code query}, a canonical
 * string of the method and everything that shapes the listing (parent, tenant, filter, order; not the page
 * size): a token used with another query is INVALID_ARGUMENT on {@code page_token}, as is anything that is
 * not a token of ours. Tokens are base64url of a small versioned payload; they are not secret and not
 * signed: the key only says where to continue, and the caller's principal still decides what it sees.
 *
 * <pre>{@code
 * String query = "ListSessions tenant=" + tenant + " user=" + user + " state=" + state;
 * int size = PageTokens.pageSize(request.getPageSize(), 50, 1000);
 * Optional<List<String>> after = PageTokens.after(request.getPageToken(), query);
 * List<Row> rows = store.list(tenant, after.map(k -> Long.parseLong(k.get(0))), size + 1);
 * String next = rows.size() > size ? PageTokens.next(query, List.of(String.valueOf(rows.get(size - 1).id()))) : "";
 * }</pre>
 */
public final class PageTokens {

    private static final byte VERSION = 1;
    private static final int HASH_BYTES = 12;
    /** Bounds on what a token may hold, so a forged one cannot make us allocate much. */
    private static final int MAX_TOKEN_CHARS = 4096;
    private static final int MAX_KEYS = 16;

    /** The token of the page after the one that ended with {@code lastKey}. */
    public static String next(String query, List<String> lastKey) {
        requireNonNull(query, "query");
        requireNonNull(lastKey, "lastKey");
        if (lastKey.isEmpty() || lastKey.size() > MAX_KEYS) {
            throw new IllegalArgumentException("a page key has 1.." + MAX_KEYS + " parts, not " + lastKey.size());
        }
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(VERSION);
            out.write(hash(query));
            out.writeByte(lastKey.size());
            for (String part : lastKey) {
                final byte[] utf8 = part.getBytes(StandardCharsets.UTF_8);
                out.writeShort(utf8.length);
                out.write(utf8);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        final String token = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes.toByteArray());
        if (token.length() > MAX_TOKEN_CHARS) {
            throw new IllegalArgumentException("page key too long for a token: " + token.length() + " characters");
        }
        return token;
    }

    /**
     * The key the page starts after; empty for an empty token (the first page).
     *
     * @throws DomainException INVALID_ARGUMENT on {@code page_token} for a token that is not ours or was made
     *         for another query
     */
    public static Optional<List<String>> after(String token, String query) {
        requireNonNull(query, "query");
        if (token == null || token.isEmpty()) {
            return Optional.empty();
        }
        if (token.length() > MAX_TOKEN_CHARS) {
            throw malformed();
        }
        final byte[] hash = new byte[HASH_BYTES];
        final List<String> key = new ArrayList<>();
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(Base64.getUrlDecoder().decode(token)))) {
            if (in.readByte() != VERSION) {
                throw malformed();
            }
            in.readFully(hash);
            final int parts = in.readUnsignedByte();
            if (parts == 0 || parts > MAX_KEYS) {
                throw malformed();
            }
            for (int i = 0; i < parts; i++) {
                final byte[] utf8 = new byte[in.readUnsignedShort()];
                in.readFully(utf8);
                key.add(new String(utf8, StandardCharsets.UTF_8));
            }
            if (in.read() != -1) {
                throw malformed();
            }
        } catch (IOException | IllegalArgumentException e) {
            throw malformed();
        }
        if (!MessageDigest.isEqual(hash, hash(query))) {
            throw DomainException.invalidArgument("page_token", "was made for another query: the filter, parent or "
                                                                + "order changed; start again without a token");
        }
        return Optional.of(List.copyOf(key));
    }

    /**
     * The page size to use: {@code dflt} for 0 (unset), at most {@code max}.
     *
     * @throws DomainException INVALID_ARGUMENT on {@code page_size} when negative
     */
    public static int pageSize(int requested, int dflt, int max) {
        if (dflt < 1 || max < dflt) {
            throw new IllegalArgumentException("expected 1 <= default (" + dflt + ") <= max (" + max + ")");
        }
        if (requested < 0) {
            throw DomainException.invalidArgument("page_size", "must not be negative: " + requested);
        }
        return requested == 0 ? dflt : Math.min(requested, max);
    }

    private static DomainException malformed() {
        return DomainException.invalidArgument("page_token", "not a page token of this list");
    }

    private static byte[] hash(String query) {
        try {
            return Arrays.copyOf(MessageDigest.getInstance("SHA-256").digest(query.getBytes(StandardCharsets.UTF_8)),
                                 HASH_BYTES);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e); // every JVM has SHA-256
        }
    }

    private PageTokens() {}
}
