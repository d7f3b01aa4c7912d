package ai.sonia.runtime.edge;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.protobuf.util.JsonFormat;
import com.google.rpc.BadRequest;
import com.google.rpc.ErrorInfo;
import com.google.rpc.RetryInfo;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;
import com.fasterxml.jackson.databind.ObjectMapper;

import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpHeaders;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.ResponseHeaders;
import com.linecorp.armeria.common.annotation.Nullable;
import com.linecorp.armeria.common.grpc.protocol.GrpcHeaderNames;
import com.linecorp.armeria.common.logging.RequestLog;
import com.linecorp.armeria.common.logging.RequestLogProperty;
import com.linecorp.armeria.server.ServiceRequestContext;

import ai.sonia.common.v1.Envelope;
import ai.sonia.common.v1.EnvelopeError;
import ai.sonia.common.v1.ErrorCode;
import ai.sonia.runtime.Correlation;
import io.grpc.Status;

/** Renders the standard envelope, the one shape of every REST response at the edge. */
public final class Envelopes {

    private static final JsonFormat.Printer printer =
            JsonFormat.printer().preservingProtoFieldNames().alwaysPrintFieldsWithNoPresence()
                      .omittingInsignificantWhitespace();
    private static final ObjectMapper mapper = new ObjectMapper();
    // Field names from the contract's Envelope message, never spelled here.
    private static final String OK = field(Envelope.OK_FIELD_NUMBER);
    private static final String SERVICE = field(Envelope.SERVICE_FIELD_NUMBER);
    private static final String OPERATION = field(Envelope.OPERATION_FIELD_NUMBER);
    private static final String CORRELATION_ID = field(Envelope.CORRELATION_ID_FIELD_NUMBER);
    private static final String DURATION_MS = field(Envelope.DURATION_MS_FIELD_NUMBER);
    private static final String DATA = field(Envelope.DATA_FIELD_NUMBER);

    private static String field(int number) {
        return Envelope.getDescriptor().findFieldByNumber(number).getName();
    }

    /** A success envelope around {@code dataJson}, the proto JSON of the response message. */
    public static AggregatedHttpResponse success(ServiceRequestContext ctx, String service, String dataJson) {
        return success(ctx, service, dataJson.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * A success envelope around {@code dataJson}, the UTF-8 bytes of the response message's proto JSON, as
     * the transcoder wrote them. The hot path of every REST call: the payload is streamed token by token from
     * those bytes into the envelope in one pass (no string, no tree), which also undoes protobuf JsonFormat's
     * HTML-safe escapes ("Ann\u0027s" -> "Ann's") for people reading it.
     */
    public static AggregatedHttpResponse success(ServiceRequestContext ctx, String service, byte[] dataJson) {
        final Envelope head = base(ctx, service).setOk(true).build();
        final ByteArrayBuilder bytes = new ByteArrayBuilder(dataJson.length + 192);
        try {
            write(bytes, head, dataJson, true);
        } catch (IOException e) {
            // Not JSON: kept, as a string.
            bytes.reset();
            try {
                write(bytes, head, dataJson, false);
            } catch (IOException again) {
                throw new IllegalStateException("envelope cannot be written", again);
            }
        }
        return AggregatedHttpResponse.of(ResponseHeaders.of(HttpStatus.OK, "content-type", MediaType.JSON_UTF_8),
                                         HttpData.wrap(bytes.toByteArray()));
    }

    private static void write(ByteArrayBuilder bytes, Envelope head, byte[] dataJson, boolean asJson)
            throws IOException {
        try (JsonGenerator json = mapper.createGenerator(bytes)) {
            json.writeStartObject();
            json.writeBooleanField(OK, true);
            json.writeStringField(SERVICE, head.getService());
            json.writeStringField(OPERATION, head.getOperation());
            json.writeStringField(CORRELATION_ID, head.getCorrelationId());
            json.writeNumberField(DURATION_MS, head.getDurationMs());
            json.writeFieldName(DATA);
            if (asJson) {
                try (JsonParser data = mapper.createParser(dataJson)) {
                    if (data.nextToken() == null) {
                        throw new JsonParseException(data, "no JSON");
                    }
                    json.copyCurrentStructure(data);
                }
            } else {
                json.writeString(new String(dataJson, StandardCharsets.UTF_8));
            }
            json.writeEndObject();
        }
    }

    /** An error envelope for a gRPC status and its {@code google.rpc.Status} details, if any. */
    public static AggregatedHttpResponse error(ServiceRequestContext ctx, String service, Status.Code code,
                                               String message, @Nullable com.google.rpc.Status details) {
        String reason = null;
        final Struct.Builder detailStruct = Struct.newBuilder();
        if (details != null) {
            for (Any any : details.getDetailsList()) {
                reason = addDetail(detailStruct, any, reason);
            }
        }
        final ErrorCode errorCode = ErrorMapping.errorCode(code, reason);
        final EnvelopeError error = EnvelopeError.newBuilder()
                                                 .setCode(ErrorMapping.wireName(errorCode))
                                                 .setMessage(clientMessage(message))
                                                 .setDetails(detailStruct)
                                                 .build();
        final Envelope envelope = base(ctx, service).setOk(false).setError(error).build();
        return render(HttpStatus.valueOf(ErrorMapping.httpStatus(code)), envelope);
    }

    /**
     * A message fit for a client: the names of library classes (a parser's {@code com.google.gson...}
     * exception, {@code java.io.EOFException: }) and pointers into library documentation are taken out,
     * whitespace is folded and the length capped. What the message says about the input stays.
     */
    public static String clientMessage(@Nullable String message) {
        if (message == null) {
            return "";
        }
        String clean = LIBRARY_DOCS.matcher(message).replaceAll("");
        clean = EXCEPTION_PREFIX.matcher(clean).replaceAll("");
        clean = LIBRARY_CLASS.matcher(clean).replaceAll(m -> java.util.regex.Matcher.quoteReplacement(
                m.group().substring(m.group().lastIndexOf('.') + 1)));
        clean = clean.replace("Use JsonReader.setLenient(true) to accept malformed JSON", "malformed JSON");
        clean = clean.replaceAll("\\s+", " ").strip();
        return clean.length() <= MAX_MESSAGE_CHARS ? clean : clean.substring(0, MAX_MESSAGE_CHARS) + "...";
    }

    private static final int MAX_MESSAGE_CHARS = 300;
    private static final String LIBRARY_NAME =
            "\\b(?:java|javax|jdk|sun|com|org|io|net|kotlin|scala)\\.(?:[a-z_][\\w$]*\\.)*[A-Z][\\w$]*";
    /** {@code com.google.gson.stream.MalformedJsonException: } and the like, at the start of a cause. */
    private static final java.util.regex.Pattern EXCEPTION_PREFIX =
            java.util.regex.Pattern.compile(LIBRARY_NAME + ":\\s*");
    private static final java.util.regex.Pattern LIBRARY_CLASS = java.util.regex.Pattern.compile(LIBRARY_NAME);
    private static final java.util.regex.Pattern LIBRARY_DOCS =
            java.util.regex.Pattern.compile("\\s*See https?://\\S+");

    /** The {@code google.rpc.Status} carried in {@code grpc-status-details-bin}, if any. */
    @Nullable
    public static com.google.rpc.Status statusDetails(HttpHeaders... headersAndTrailers) {
        for (HttpHeaders headers : headersAndTrailers) {
            final String encoded = headers.get(GrpcHeaderNames.GRPC_STATUS_DETAILS_BIN);
            if (encoded != null) {
                try {
                    return com.google.rpc.Status.parseFrom(Base64.getDecoder().decode(encoded));
                } catch (InvalidProtocolBufferException | IllegalArgumentException e) {
                    return null;
                }
            }
        }
        return null;
    }

    /** The operation being served: the gRPC method name when known, else the HTTP method and path. */
    static String operation(ServiceRequestContext ctx) {
        final RequestLog log = ctx.log().partial();
        if (log.isAvailable(RequestLogProperty.NAME) && log.serviceName() != null) {
            return log.serviceName() + '/' + log.name();
        }
        return ctx.method() + " " + ctx.path();
    }

    private static Envelope.Builder base(ServiceRequestContext ctx, String service) {
        final long startNanos = ctx.log().partial().requestStartTimeNanos();
        final double durationMs = (System.nanoTime() - startNanos) / 1_000_000.0;
        final String correlationId = Correlation.of(ctx);
        return Envelope.newBuilder()
                       .setService(service)
                       .setOperation(operation(ctx))
                       .setCorrelationId(correlationId == null ? "" : correlationId)
                       .setDurationMs(Math.round(durationMs * 1000) / 1000.0);
    }

    private static String addDetail(Struct.Builder out, Any any, @Nullable String reason) {
        try {
            if (any.is(ErrorInfo.class)) {
                final ErrorInfo info = any.unpack(ErrorInfo.class);
                final Struct.Builder metadata = Struct.newBuilder();
                info.getMetadataMap().forEach((k, v) -> metadata.putFields(k, string(v)));
                out.putFields("reason", string(info.getReason()));
                out.putFields("domain", string(info.getDomain()));
                out.putFields("metadata", Value.newBuilder().setStructValue(metadata).build());
                return info.getReason();
            }
            if (any.is(BadRequest.class)) {
                final ListValue.Builder violations = ListValue.newBuilder();
                for (BadRequest.FieldViolation v : any.unpack(BadRequest.class).getFieldViolationsList()) {
                    violations.addValues(Value.newBuilder().setStructValue(
                            Struct.newBuilder().putFields("field", string(v.getField()))
                                  .putFields("description", string(v.getDescription()))));
                }
                out.putFields("field_violations", Value.newBuilder().setListValue(violations).build());
            } else if (any.is(RetryInfo.class)) {
                final RetryInfo retry = any.unpack(RetryInfo.class);
                out.putFields("retry_after_seconds",
                              Value.newBuilder().setNumberValue(retry.getRetryDelay().getSeconds()).build());
            }
        } catch (InvalidProtocolBufferException e) {
            // A detail we cannot read is left out; the code and message still stand.
        }
        return reason;
    }

    private static Value string(String s) {
        return Value.newBuilder().setStringValue(s).build();
    }

    /** An error envelope (no data), printed from the contract's message. */
    private static AggregatedHttpResponse render(HttpStatus status, Envelope envelope) {
        try {
            return AggregatedHttpResponse.of(ResponseHeaders.of(status, "content-type", MediaType.JSON_UTF_8),
                                             HttpData.ofUtf8(printer.print(envelope)));
        } catch (IOException e) {
            throw new IllegalStateException("envelope cannot be printed", e);
        }
    }

    private Envelopes() {}
}
