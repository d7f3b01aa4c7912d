package ai.sonia.runtime;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiConsumer;

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
import com.linecorp.armeria.common.annotation.Nullable;
import com.linecorp.armeria.common.grpc.GrpcExceptionHandlerFunction;
import com.linecorp.armeria.common.sse.ServerSentEvent;
import com.linecorp.armeria.common.stream.StreamMessage;
import com.linecorp.armeria.common.stream.StreamWriter;
import com.linecorp.armeria.common.util.TimeoutMode;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServiceRequestContext;
import com.linecorp.armeria.server.streaming.ServerSentEvents;

import ai.sonia.runtime.edge.Envelopes;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.protobuf.ProtoMethodDescriptorSupplier;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;

/**
 * A server-streaming method served at its {@code google.api.http} POST binding as Server-Sent Events
 * (Armeria's HTTP/JSON transcoding serves unary methods only). One code path with gRPC: the JSON body is
 * parsed as the method's request message and given to the same service method, whose messages become one
 * event each ({@code data:} the message's proto JSON). A failure before the first message answers the
 * standard envelope with the HTTP status of its code; one after it is an {@code event: error} frame whose
 * data is the same envelope, and ends the stream. The contract's deadline of the method applies; a client
 * that goes away cancels the call as a gRPC cancel does ({@code isCancelled}, the cancel handler).
 * Authentication and the correlation id are the server's decorators', as for every route.
 */
final class ServerStreamSse<I extends Message, O extends Message> implements HttpService {

    /** The {@code event:} name of the frame that carries an error envelope. */
    static final String ERROR_EVENT = "error";

    private static final JsonFormat.Printer printer =
            JsonFormat.printer().preservingProtoFieldNames().omittingInsignificantWhitespace();

    private final String service;
    private final I prototype;
    private final long deadlineMillis;
    private final BiConsumer<I, StreamObserver<O>> method;
    private final GrpcExceptionHandlerFunction errors;

    private ServerStreamSse(String service, I prototype, long deadlineMillis, BiConsumer<I, StreamObserver<O>> method,
                            GrpcExceptionHandlerFunction errors) {
        this.service = service;
        this.prototype = prototype;
        this.deadlineMillis = deadlineMillis;
        this.method = method;
        this.errors = errors;
    }

    @SuppressWarnings("unchecked")
    static <I extends Message, O extends Message> ServerStreamSse<I, O> of(
            ServiceSpec spec, MethodDescriptor<I, O> descriptor, BiConsumer<I, StreamObserver<O>> method,
            GrpcExceptionHandlerFunction errors) {
        if (descriptor.getType() != MethodDescriptor.MethodType.SERVER_STREAMING) {
            throw new IllegalArgumentException(descriptor.getFullMethodName() + ": not a server-streaming method");
        }
        final I prototype = ((MethodDescriptor.PrototypeMarshaller<I>) descriptor.getRequestMarshaller())
                .getMessagePrototype();
        return new ServerStreamSse<>(spec.name(), prototype, spec.deadlineMillis(descriptor.getBareMethodName()),
                                     method, errors);
    }

    /** The POST path the contract binds {@code descriptor} to. */
    static String postPath(MethodDescriptor<?, ?> descriptor) {
        final HttpRule rule = ((ProtoMethodDescriptorSupplier) descriptor.getSchemaDescriptor())
                .getMethodDescriptor().getOptions().getExtension(AnnotationsProto.http);
        if (rule.getPost().isEmpty()) {
            throw new IllegalArgumentException(descriptor.getFullMethodName() + ": no POST binding in the contract");
        }
        return rule.getPost();
    }

    @Override
    public HttpResponse serve(ServiceRequestContext ctx, HttpRequest req) {
        if (deadlineMillis == 0) {
            ctx.clearRequestTimeout();
        } else {
            ctx.setRequestTimeout(TimeoutMode.SET_FROM_START, Duration.ofMillis(deadlineMillis));
        }
        final CompletableFuture<HttpResponse> head = new CompletableFuture<>();
        req.aggregate().thenAcceptAsync(body -> {
            final Message.Builder request = prototype.newBuilderForType();
            try {
                if (!body.content().isEmpty()) {
                    JsonFormat.parser().merge(body.contentUtf8(), request);
                }
            } catch (InvalidProtocolBufferException e) {
                head.complete(envelope(ctx, Status.INVALID_ARGUMENT.withDescription(
                        "malformed request: " + e.getMessage()).asRuntimeException()).toHttpResponse());
                return;
            }
            final Call call = new Call(ctx, head);
            ctx.whenRequestCancelling().thenRun(call::cancel);
            try {
                @SuppressWarnings("unchecked")
                final I typed = (I) request.build();
                method.accept(typed, call);
            } catch (RuntimeException e) {
                call.onError(e);
            }
        }, ctx.blockingTaskExecutor());
        return HttpResponse.of(head);
    }

    /** The error as the service's gRPC path maps it, rendered as the standard envelope. */
    private com.linecorp.armeria.common.AggregatedHttpResponse envelope(ServiceRequestContext ctx, Throwable t) {
        final Metadata trailers = new Metadata();
        final Status given = Status.fromThrowable(t);
        final Metadata carried = Status.trailersFromThrowable(t);
        if (carried != null) {
            trailers.merge(carried);
        }
        @Nullable
        final Status mapped = errors.apply(ctx, given, t, trailers);
        final Status status = mapped == null ? given : mapped;
        com.google.rpc.Status details;
        try {
            details = StatusProto.fromStatusAndTrailers(status, trailers);
        } catch (IllegalArgumentException e) {
            details = null; // details of another code than the one mapped: the code and message stand alone
        }
        return Envelopes.error(ctx, service, status.getCode(), String.valueOf(status.getDescription()),
                               details == null || details.getDetailsCount() == 0 ? null : details);
    }

    /** The gRPC method's observer, writing to the event stream (opened by the first message). */
    private final class Call extends ServerCallStreamObserver<O> {
        private final ServiceRequestContext ctx;
        private final CompletableFuture<HttpResponse> head;
        @Nullable
        private StreamWriter<ServerSentEvent> events;
        @Nullable
        private Runnable onCancel;
        private volatile boolean cancelled;
        private boolean ended;

        Call(ServiceRequestContext ctx, CompletableFuture<HttpResponse> head) {
            this.ctx = ctx;
            this.head = head;
        }

        @Override
        public synchronized void onNext(O value) {
            if (ended || cancelled) {
                return;
            }
            final String json;
            try {
                json = printer.print(value);
            } catch (InvalidProtocolBufferException e) {
                throw new IllegalStateException(e);
            }
            open().tryWrite(ServerSentEvent.ofData(json));
        }

        @Override
        public synchronized void onError(Throwable t) {
            if (ended) {
                return;
            }
            ended = true;
            if (events == null) {
                head.complete(envelope(ctx, t).toHttpResponse());
                return;
            }
            events.tryWrite(ServerSentEvent.builder().event(ERROR_EVENT).data(envelope(ctx, t).contentUtf8()).build());
            events.close();
        }

        @Override
        public synchronized void onCompleted() {
            if (ended) {
                return;
            }
            ended = true;
            open().close();
        }

        private StreamWriter<ServerSentEvent> open() {
            if (events == null) {
                final StreamWriter<ServerSentEvent> writer = StreamMessage.streaming();
                events = writer;
                head.complete(ServerSentEvents.fromPublisher(
                        ResponseHeaders.builder(HttpStatus.OK).contentType(MediaType.EVENT_STREAM)
                                       .add("cache-control", "no-cache").build(),
                        writer));
                writer.whenComplete().exceptionally(cause -> {
                    cancel();
                    return null;
                });
            }
            return events;
        }

        void cancel() {
            final Runnable handler;
            synchronized (this) {
                if (cancelled || ended) {
                    return;
                }
                cancelled = true;
                handler = onCancel;
            }
            if (handler != null) {
                handler.run();
            }
        }

        @Override
        public boolean isCancelled() {
            return cancelled;
        }

        @Override
        public void setOnCancelHandler(Runnable handler) {
            synchronized (this) {
                onCancel = handler;
                if (!cancelled) {
                    return;
                }
            }
            handler.run();
        }

        @Override
        public boolean isReady() {
            return !cancelled;
        }

        @Override
        public void setOnReadyHandler(Runnable handler) {
            // Events are buffered by the writer; the method is never asked to wait.
        }

        @Override
        public void setCompression(String compression) {}

        @Override
        public void request(int count) {}

        @Override
        public void setMessageCompression(boolean enable) {}

        @Override
        public void disableAutoInboundFlowControl() {}
    }
}
