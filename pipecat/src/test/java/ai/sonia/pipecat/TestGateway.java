package ai.sonia.pipecat;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

import ai.sonia.gateway.v1.ChatRequest;
import ai.sonia.gateway.v1.ChatResponse;
import ai.sonia.gateway.v1.GatewayServiceGrpc;
import ai.sonia.runtime.Correlation;
import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.Stack;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.auth.Principal;
import io.grpc.stub.StreamObserver;

/**
 * A real server on loopback speaking the gateway's contract behind the runtime's front door (so calls need
 * a service credential of the same home), with a scripted {@code Chat} that records who asked.
 */
final class TestGateway implements AutoCloseable {

    final List<ChatRequest> requests = new CopyOnWriteArrayList<>();
    final List<String> correlationIds = new CopyOnWriteArrayList<>();
    /** The principal of each chat call, as the gateway sees it. */
    final List<Principal> principals = new CopyOnWriteArrayList<>();
    private final SoniaServer server;
    private volatile Function<String, String> replies = text -> "echo: " + text;

    TestGateway(StackConfig config) {
        final GatewayServiceGrpc.GatewayServiceImplBase impl = new GatewayServiceGrpc.GatewayServiceImplBase() {
            @Override
            public void chat(ChatRequest request, StreamObserver<ChatResponse> responseObserver) {
                principals.add(Principal.current());
                correlationIds.add(Correlation.current());
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
        server = SoniaServer.builder(Stack.GATEWAY, config.withPorts(Map.of("gateway", 0)))
                            .addService(impl)
                            .useBlockingTaskExecutor(true)
                            .build().start();
    }

    void replyWith(Function<String, String> replies) {
        this.replies = replies;
    }

    String target() {
        return "127.0.0.1:" + server.port();
    }

    @Override
    public void close() {
        server.close();
    }
}
