package ai.sonia.runtime.logging;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;

import org.slf4j.event.KeyValuePair;

import com.fasterxml.jackson.core.io.JsonStringEncoder;

import ai.sonia.runtime.Correlation;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.encoder.EncoderBase;

/**
 * Writes each event as one JSON line: ISO-8601 UTC timestamp, level, service, correlation id, logger,
 * thread, message, key-value pairs, MDC and exception. The service and correlation id come from the
 * request being served when the line is written, so every line of a request carries them.
 */
public final class JsonLineEncoder extends EncoderBase<ILoggingEvent> {

    private static final byte[] EMPTY = new byte[0];
    private static final JsonStringEncoder json = JsonStringEncoder.getInstance();
    /**
     * The last event this thread encoded and its line. Every line goes to stdout and to the service's file, two
     * appenders that encode the same event one after the other on the logging thread: the second one gets the
     * first one's bytes (the appenders only write them) instead of building the line again.
     */
    private static final ThreadLocal<Encoded> last = ThreadLocal.withInitial(Encoded::new);

    private static final class Encoded {
        ILoggingEvent event;
        byte[] line;
    }

    @Override
    public byte[] headerBytes() {
        return EMPTY;
    }

    @Override
    public byte[] encode(ILoggingEvent event) {
        final Encoded previous = last.get();
        if (previous.event == event) {
            return previous.line;
        }
        final byte[] encoded = encodeOnce(event);
        previous.event = event;
        previous.line = encoded;
        return encoded;
    }

    private static byte[] encodeOnce(ILoggingEvent event) {
        final StringBuilder line = new StringBuilder(256);
        line.append('{');
        field(line, "timestamp", Instant.ofEpochMilli(event.getTimeStamp()).toString());
        field(line, "level", event.getLevel().toString());
        field(line, "service", ServiceDiscriminator.serviceOf(event));
        final String correlationId = correlationId(event);
        // (MDC wins over the current request for lines written on behalf of another one, e.g. spans.)
        if (correlationId != null) {
            field(line, "correlation_id", correlationId);
        }
        field(line, "logger", event.getLoggerName());
        field(line, "thread", event.getThreadName());
        field(line, "message", event.getFormattedMessage());
        if (event.getKeyValuePairs() != null) {
            for (KeyValuePair pair : event.getKeyValuePairs()) {
                field(line, pair.key, String.valueOf(pair.value));
            }
        }
        for (Map.Entry<String, String> e : event.getMDCPropertyMap().entrySet()) {
            if (!"correlation_id".equals(e.getKey()) && !"service".equals(e.getKey())) {
                field(line, e.getKey(), e.getValue());
            }
        }
        final IThrowableProxy thrown = event.getThrowableProxy();
        if (thrown != null) {
            field(line, "exception", ThrowableProxyUtil.asString(thrown));
        }
        line.setLength(line.length() - 1); // the last comma
        line.append("}\n");
        return line.toString().getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public byte[] footerBytes() {
        return EMPTY;
    }

    private static String correlationId(ILoggingEvent event) {
        final String fromMdc = event.getMDCPropertyMap().get("correlation_id");
        return fromMdc != null ? fromMdc : Correlation.current();
    }

    private static void field(StringBuilder line, String key, String value) {
        line.append('"').append(json.quoteAsString(key)).append("\":\"")
            .append(json.quoteAsString(value == null ? "" : value)).append("\",");
    }
}
