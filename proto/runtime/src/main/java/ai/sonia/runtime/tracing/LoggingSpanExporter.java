package ai.sonia.runtime.tracing;

import java.util.Collection;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import ai.sonia.runtime.logging.LogValues;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SpanExporter;

/**
 * Writes each finished span as one JSON log line (logger {@code ai.sonia.trace}) of the service that
 * served it, so a trace can be followed with nothing but the log files. OpenTelemetry's own logging
 * exporter writes through java.util.logging in free text; this keeps Sonia's JSON lines.
 */
final class LoggingSpanExporter implements SpanExporter {

    private static final Logger logger = LoggerFactory.getLogger("ai.sonia.trace");

    @Override
    public CompletableResultCode export(Collection<SpanData> spans) {
        for (SpanData span : spans) {
            final String service = span.getAttributes().get(Tracing.SERVICE);
            final String correlationId = span.getAttributes().get(Tracing.CORRELATION_ID);
            try (MDC.MDCCloseable s = MDC.putCloseable("service", service != null ? service : "sonia");
                 MDC.MDCCloseable c = MDC.putCloseable("correlation_id", correlationId)) {
                logger.atInfo()
                      .addKeyValue("trace_id", span.getTraceId())
                      .addKeyValue("span_id", span.getSpanId())
                      .addKeyValue("parent_span_id", span.getParentSpanId())
                      .addKeyValue("span_kind", span.getKind().name())
                      .addKeyValue("span_status", span.getStatus().getStatusCode().name())
                      .addKeyValue("duration_ms", LogValues.millis(span.getEndEpochNanos() - span.getStartEpochNanos()))
                      .log("span {}", span.getName());
            }
        }
        return CompletableResultCode.ofSuccess();
    }

    @Override
    public CompletableResultCode flush() {
        return CompletableResultCode.ofSuccess();
    }

    @Override
    public CompletableResultCode shutdown() {
        return CompletableResultCode.ofSuccess();
    }
}
