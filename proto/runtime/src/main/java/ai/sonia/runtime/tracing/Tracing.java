package ai.sonia.runtime.tracing;

import java.time.Duration;
import java.util.Locale;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import ai.sonia.runtime.Correlation;
import io.grpc.ClientInterceptor;
import io.grpc.ServerInterceptor;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.instrumentation.grpc.v1_6.GrpcTelemetry;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.ReadWriteSpan;
import io.opentelemetry.sdk.trace.ReadableSpan;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.SdkTracerProviderBuilder;
import io.opentelemetry.sdk.trace.SpanProcessor;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;

/**
 * OpenTelemetry for the whole process: W3C {@code traceparent} propagation, server and client spans for
 * every gRPC call (REST calls are transcoded into gRPC, so they are traced by the same interceptor),
 * the correlation id and serving service as span attributes. Spans go to the JSON logs by default
 * ({@code SONIA_TRACES_EXPORTER=logging}), to an OTLP/HTTP collector when
 * {@code OTEL_EXPORTER_OTLP_ENDPOINT} is set, or nowhere ({@code none}).
 */
public final class Tracing {

    static final AttributeKey<String> CORRELATION_ID = AttributeKey.stringKey("sonia.correlation_id");
    static final AttributeKey<String> SERVICE = AttributeKey.stringKey("sonia.service");
    private static final Logger logger = LoggerFactory.getLogger(Tracing.class);
    private static volatile Tracing instance;

    private final OpenTelemetrySdk sdk;
    private final GrpcTelemetry grpc;

    private Tracing(OpenTelemetrySdk sdk) {
        this.sdk = sdk;
        // No span event per message sent or received: each one measured the message through reflection on
        // every call, and the span's own duration, status and attributes are what Sonia's traces carry (the
        // logging exporter never wrote events).
        grpc = GrpcTelemetry.builder(sdk).setEmitMessageEvents(false).build();
    }

    /** The process's tracing, made on first use from the environment. */
    public static Tracing get() {
        Tracing local = instance;
        if (local == null) {
            synchronized (Tracing.class) {
                local = instance;
                if (local == null) {
                    local = instance = new Tracing(sdk(System.getenv()));
                    Runtime.getRuntime().addShutdownHook(new Thread(local.sdk::close, "tracing-shutdown"));
                }
            }
        }
        return local;
    }

    public ServerInterceptor serverInterceptor() {
        return grpc.createServerInterceptor();
    }

    public ClientInterceptor clientInterceptor() {
        return grpc.createClientInterceptor();
    }

    /** Exports what is buffered (tests and shutdown). */
    public void flush() {
        sdk.getSdkTracerProvider().forceFlush().join(5, java.util.concurrent.TimeUnit.SECONDS);
    }

    private static OpenTelemetrySdk sdk(java.util.Map<String, String> env) {
        final String endpoint = env.get("OTEL_EXPORTER_OTLP_ENDPOINT");
        final String choice = env.getOrDefault("SONIA_TRACES_EXPORTER",
                                               endpoint != null && !endpoint.isEmpty() ? "otlp" : "logging")
                                 .toLowerCase(Locale.ROOT);
        final SdkTracerProviderBuilder provider =
                SdkTracerProvider.builder()
                                 .setResource(Resource.getDefault().merge(Resource.create(Attributes.of(
                                         AttributeKey.stringKey("service.name"),
                                         env.getOrDefault("OTEL_SERVICE_NAME", "sonia")))))
                                 .addSpanProcessor(new SoniaAttributes());
        final SpanExporter exporter = switch (choice) {
            case "none" -> null;
            case "otlp" -> OtlpHttpSpanExporter.builder()
                                               .setEndpoint(stripSlash(endpoint == null ? "http://127.0.0.1:4318" : endpoint)
                                                            + "/v1/traces")
                                               .build();
            case "logging" -> new LoggingSpanExporter();
            default -> {
                logger.warn("SONIA_TRACES_EXPORTER={} is not one of logging, otlp, none: using logging", choice);
                yield new LoggingSpanExporter();
            }
        };
        if (exporter != null) {
            provider.addSpanProcessor(BatchSpanProcessor.builder(exporter)
                                                        .setScheduleDelay(Duration.ofMillis(200))
                                                        .build());
        }
        return OpenTelemetrySdk.builder()
                               .setTracerProvider(provider.build())
                               .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance()))
                               .build();
    }

    private static String stripSlash(String s) {
        return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
    }

    /** Stamps each span with the request's correlation id and the service serving it. */
    private static final class SoniaAttributes implements SpanProcessor {
        @Override
        public void onStart(Context parentContext, ReadWriteSpan span) {
            final String correlationId = Correlation.current();
            if (correlationId != null) {
                span.setAttribute(CORRELATION_ID, correlationId);
            }
            final String service = Correlation.currentService();
            if (service != null) {
                span.setAttribute(SERVICE, service);
            }
        }

        @Override
        public boolean isStartRequired() {
            return true;
        }

        @Override
        public void onEnd(ReadableSpan span) {}

        @Override
        public boolean isEndRequired() {
            return false;
        }
    }
}
