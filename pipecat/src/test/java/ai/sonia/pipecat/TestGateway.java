package ai.sonia.pipecat;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

import ai.sonia.gateway.v1.ChatRequest;
import ai.sonia.gateway.v1.ChatResponse;
import ai.sonia.gateway.v1.GatewayServiceGrpc;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;

/** A real gRPC server on loopback speaking the gateway's contract, with a scripted {@code Chat}. */
final class TestGateway implements AutoCloseable {

    static final Metadata.Key<String> CORRELATION = Metadata.Key.of("x-correlation-id",
                                                                    Metadata.ASCII_STRING_MARSHALLER);

    final List<ChatRequest> requests = new CopyOnWriteArrayList<>();
    final List<String> correlationIds = new CopyOnWriteArrayList<>();
    private final Server server;
    private volatile Function<String, String> replies = text -> "echo: " + text;

    TestGateway() throws IOException {
        final GatewayServiceGrpc.GatewayServiceImplBase impl = new GatewayServiceGrpc.GatewayServiceImplBase() {
            @Override
            public void chat(ChatRequest request, StreamObserver<ChatResponse> responseObserver) {
                requests.add(request);
                final String reply;
                try {
                    reply = replies.apply(request.getText());
                } catch (RuntimeException e) {
                    responseObserver.onError(io.grpc.Status.UNAVAILABLE.withDescription(e.getMessage())
                                                                       .asRuntimeException());
                    return;
                }
                responseObserver.onNext(ChatResponse.newBuilder().setReply(reply)
                                                    .setSessionId(request.getSessionId()).build());
                responseObserver.onCompleted();
            }
        };
        final ServerInterceptor capture = new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                              ServerCallHandler<Q, R> next) {
                final String id = headers.get(CORRELATION);
                if (id != null) {
                    correlationIds.add(id);
                }
                return next.startCall(call, headers);
            }
        };
        server = NettyServerBuilder.forAddress(new java.net.InetSocketAddress("127.0.0.1", 0))
                                   .addService(ServerInterceptors.intercept(impl, capture))
                                   .build().start();
    }

    void replyWith(Function<String, String> replies) {
        this.replies = replies;
    }

    String target() {
        return "127.0.0.1:" + server.getPort();
    }

    @Override
    public void close() {
        server.shutdownNow();
    }
}
