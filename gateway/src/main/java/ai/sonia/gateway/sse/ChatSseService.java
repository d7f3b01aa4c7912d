package ai.sonia.gateway.sse;

import java.util.ArrayList;
import java.util.List;

import com.google.api.AnnotationsProto;
import com.google.api.HttpRule;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;

import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.ResponseHeaders;
import com.linecorp.armeria.common.sse.ServerSentEvent;
import com.linecorp.armeria.common.stream.StreamMessage;
import com.linecorp.armeria.common.stream.StreamWriter;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServiceRequestContext;
import com.linecorp.armeria.server.streaming.ServerSentEvents;

import ai.sonia.gateway.chat.ChatStreamer;
import ai.sonia.gateway.v1.GatewayServiceProto;
import ai.sonia.gateway.v1.StreamChatRequest;
import ai.sonia.gateway.v1.StreamChatResponse;
import ai.sonia.runtime.Errors;
import ai.sonia.runtime.auth.Principal;
import ai.sonia.runtime.edge.Envelopes;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.StreamObserver;

/**
 * {@code POST /v1/chat:stream} (and every other REST binding of {@code StreamChat} in the contract, such as the
 * seed's {@code /v1/conversation/stream}: {@link #paths}) as Server-Sent Events: {@code data: {"chunk":"..."}} for each piece,
 * {@code data: {"final":{...provenance}}}, then {@code data: {"done":true}}; a failure mid-stream is
 * {@code data: {"error":{"code","message"}}}. A request that fails before streaming (bad body, empty
 * text) answers the standard envelope with its HTTP status. A client that disconnects cancels the
 * router's stream.
 */
public final class ChatSseService implements HttpService {

    private static final JsonFormat.Printer printer =
            JsonFormat.printer().preservingProtoFieldNames().omittingInsignificantWhitespace();

    private final ChatStreamer streamer;

    public ChatSseService(ChatStreamer streamer) {
        this.streamer = streamer;
    }

    /** The paths of StreamChat's {@code google.api.http} bindings (all POST, with the request as the body). */
    public static List<String> paths() {
        final HttpRule rule = GatewayServiceProto.getDescriptor().findServiceByName("GatewayService")
                                                 .findMethodByName("StreamChat").getOptions()
                                                 .getExtension(AnnotationsProto.http);
        final List<String> paths = new ArrayList<>();
        paths.add(rule.getPost());
        rule.getAdditionalBindingsList().forEach(binding -> paths.add(binding.getPost()));
        return List.copyOf(paths);
    }

    @Override
    public HttpResponse serve(ServiceRequestContext ctx, HttpRequest req) {
        ctx.clearRequestTimeout(); // the stream's own deadline (from the contract) bounds the router call
        return HttpResponse.of(req.aggregate().thenApplyAsync(body -> {
            final StreamChatRequest.Builder request = StreamChatRequest.newBuilder();
            try {
                JsonFormat.parser().merge(body.contentUtf8(), request);
            } catch (InvalidProtocolBufferException e) {
                return Envelopes.error(ctx, "gateway", Status.Code.INVALID_ARGUMENT,
                                       "malformed request: " + e.getMessage(), null).toHttpResponse();
            }
            final ChatStreamer.Prepared prepared;
            try {
                prepared = streamer.prepare(request.build(), Principal.current());
            } catch (StatusRuntimeException e) {
                return Envelopes.error(ctx, "gateway", e.getStatus().getCode(),
                                       String.valueOf(e.getStatus().getDescription()), StatusProto.fromThrowable(e))
                                .toHttpResponse();
            }
            final StreamWriter<ServerSentEvent> events = StreamMessage.streaming();
            final HttpResponse response = ServerSentEvents.fromPublisher(
                    ResponseHeaders.builder(HttpStatus.OK).contentType(MediaType.EVENT_STREAM)
                                   .add("cache-control", "no-cache").build(),
                    events);
            final ChatStreamer.Cancellation cancellation = prepared.start(new SseObserver(events));
            events.whenComplete().handle((unused, cause) -> {
                if (cause != null) {
                    cancellation.cancel("client went away");
                }
                return null;
            });
            return response;
        }, ctx.blockingTaskExecutor()));
    }

    private static final class SseObserver implements StreamObserver<StreamChatResponse> {
        private final StreamWriter<ServerSentEvent> writer;

        SseObserver(StreamWriter<ServerSentEvent> writer) {
            this.writer = writer;
        }

        @Override
        public void onNext(StreamChatResponse value) {
            event(print(value));
        }

        @Override
        public void onError(Throwable t) {
            final String message = String.valueOf(Status.fromThrowable(t).getDescription());
            event("{\"error\":{\"code\":\"" + Errors.envelopeCode(t) + "\",\"message\":"
                  + com.fasterxml.jackson.databind.node.TextNode.valueOf(message) + "}}");
            writer.close();
        }

        @Override
        public void onCompleted() {
            event("{\"done\":true}");
            writer.close();
        }

        private void event(String json) {
            // Armeria writes "data:" + data; the one leading space, which every SSE parser drops, keeps the
            // bytes as they always were ("data: {...}").
            writer.tryWrite(ServerSentEvent.ofData(' ' + json));
        }

        private static String print(Message message) {
            try {
                return printer.print(message);
            } catch (InvalidProtocolBufferException e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
