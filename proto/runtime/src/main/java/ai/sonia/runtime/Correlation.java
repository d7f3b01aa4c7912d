package ai.sonia.runtime;

import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;

import org.slf4j.MDC;

import com.linecorp.armeria.common.RequestContext;
import com.linecorp.armeria.common.annotation.Nullable;

import io.netty.util.AttributeKey;

/**
 * The correlation id of the current request: accepted from {@code X-Correlation-ID} at the edge or
 * generated, kept as a request-context attribute, sent as gRPC metadata on every downstream call,
 * echoed in envelopes and response headers, and written in every log line.
 */
public final class Correlation {

    /** The header (and gRPC metadata key) that carries the id. */
    public static final String HEADER = "x-correlation-id";

    static final AttributeKey<String> ID = AttributeKey.valueOf(Correlation.class, "ID");
    static final AttributeKey<String> SERVICE = AttributeKey.valueOf(Correlation.class, "SERVICE");

    // Anything printable and short is accepted; the rest is replaced, so a client cannot inject log lines.
    private static final Pattern ACCEPTABLE = Pattern.compile("[A-Za-z0-9._:@/+=-]{1,128}");

    /** The id of the request being served on this thread, or null outside any request. */
    @Nullable
    public static String current() {
        final RequestContext ctx = RequestContext.currentOrNull();
        if (ctx != null) {
            final String id = ctx.attr(ID);
            if (id != null) {
                return id;
            }
        }
        return MDC.get("correlation_id");
    }

    /** The id of the given request, or null when it has none. */
    @Nullable
    public static String of(RequestContext ctx) {
        return ctx.attr(ID);
    }

    /** The name of the service serving the current request, or null. */
    @Nullable
    public static String currentService() {
        final RequestContext ctx = RequestContext.currentOrNull();
        return ctx != null ? ctx.attr(SERVICE) : null;
    }

    /** The id to use for a received header value: the value itself when acceptable, else a new one. */
    public static String accept(@Nullable String received) {
        return received != null && ACCEPTABLE.matcher(received).matches() ? received : generate();
    }

    /**
     * A new random id: a version 4 UUID. An id names a request in logs and traces and is no secret (a client may
     * choose its own), so it is drawn from {@link ThreadLocalRandom}, not from the locked {@code SecureRandom} of
     * {@link UUID#randomUUID()} that every request of the process would queue for.
     */
    public static String generate() {
        final ThreadLocalRandom random = ThreadLocalRandom.current();
        final long high = (random.nextLong() & ~0xF000L) | 0x4000L; // version 4
        final long low = (random.nextLong() & ~(0xC000L << 48)) | (0x8000L << 48); // IETF variant
        return new UUID(high, low).toString();
    }

    private Correlation() {}
}
