package ai.sonia.runtime.edge;

import java.util.Base64;

import com.linecorp.armeria.common.HttpHeaders;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.RequestHeaders;
import com.linecorp.armeria.common.ResponseHeaders;
import com.linecorp.armeria.common.ResponseHeadersBuilder;
import com.linecorp.armeria.common.grpc.protocol.GrpcHeaderNames;
import com.linecorp.armeria.server.ServiceRequestContext;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;

/**
 * Refuses a request before it reaches a service (no credential, too many requests), in the caller's own
 * protocol: a gRPC or gRPC-Web call gets a trailers-only response with {@code grpc-status} and the
 * {@code google.rpc.Status} details; anything else gets the standard error envelope with the HTTP status of
 * the code.
 */
public final class EdgeReplies {

    /**
     * Whether the request is a gRPC or gRPC-Web call, rather than REST or a plain HTTP request: the one test
     * of the runtime's edge (and of the services' own decorators).
     */
    public static boolean isGrpc(RequestHeaders headers) {
        final MediaType type = headers.contentType();
        return type != null && type.subtype().startsWith("grpc");
    }

    /** The refusal of {@code req} with {@code error}, plus any extra response headers. */
    public static HttpResponse refuse(ServiceRequestContext ctx, HttpRequest req, String service,
                                      StatusRuntimeException error, HttpHeaders extraHeaders) {
        final Status status = error.getStatus();
        final com.google.rpc.Status details = StatusProto.fromThrowable(error);
        if (isGrpc(req.headers())) {
            final ResponseHeadersBuilder headers =
                    ResponseHeaders.builder(HttpStatus.OK)
                                   .contentType(req.contentType())
                                   .add(GrpcHeaderNames.GRPC_STATUS, String.valueOf(status.getCode().value()))
                                   .add(GrpcHeaderNames.GRPC_MESSAGE, percentEncoded(status.getDescription()))
                                   .endOfStream(true);
            if (details != null) {
                headers.add(GrpcHeaderNames.GRPC_STATUS_DETAILS_BIN,
                            Base64.getEncoder().withoutPadding().encodeToString(details.toByteArray()));
            }
            headers.add(extraHeaders);
            return HttpResponse.of(headers.build());
        }
        final var envelope = Envelopes.error(ctx, service, status.getCode(), status.getDescription(), details);
        return HttpResponse.of(envelope.headers().toBuilder().add(extraHeaders).build(), envelope.content());
    }

    /** The grpc-message encoding: printable ASCII but '%' as is, everything else percent-encoded. */
    private static String percentEncoded(String message) {
        if (message == null) {
            return "";
        }
        final StringBuilder out = new StringBuilder(message.length());
        for (byte b : message.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
            if (b >= ' ' && b <= '~' && b != '%') {
                out.append((char) b);
            } else {
                out.append('%').append(String.format("%02X", b & 0xff));
            }
        }
        return out.toString();
    }

    private EdgeReplies() {}
}
