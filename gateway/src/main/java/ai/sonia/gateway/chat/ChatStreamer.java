package ai.sonia.gateway.chat;

import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.ForkJoinPool;

import com.linecorp.armeria.server.ServiceRequestContext;

import ai.sonia.gateway.client.Downstreams;
import ai.sonia.gateway.v1.StreamChatRequest;
import ai.sonia.gateway.v1.StreamChatResponse;
import ai.sonia.router.v1.StreamChatResponse.EventCase;
import ai.sonia.runtime.auth.CredentialWatch;
import ai.sonia.runtime.auth.Principal;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;

/**
 * {@code StreamChat}: recall, then stream the router's tokens to the caller as they come, then store
 * the turn and send the final message with the provenance. The returned handle cancels the router's
 * stream, so a client that goes away stops the work downstream. A credential revoked while the stream runs
 * ends it with UNAUTHENTICATED (over SSE, an {@code error} event) and cancels the router's stream.
 */
public final class ChatStreamer {

    /** Stops a stream in flight. */
    public interface Cancellation {
        void cancel(String why);
    }

    private final Downstreams downstreams;

    public ChatStreamer(Downstreams downstreams) {
        this.downstreams = downstreams;
    }

    /** A validated request whose memories are recalled, ready to stream. */
    public final class Prepared {
        private final StreamChatRequest request;
        private final Principal caller;
        private final ChatTurn turn;

        private Prepared(StreamChatRequest request, Principal caller, ChatTurn turn) {
            this.request = request;
            this.caller = caller;
            this.turn = turn;
        }

        /** Starts the router's stream, forwarding to {@code out}; returns how to cancel it. */
        public Cancellation start(StreamObserver<StreamChatResponse> out) {
            return ChatStreamer.this.start(this, out);
        }
    }

    /** Validates and recalls (both may throw, before anything is streamed). Blocks: call off the event loop. */
    public Prepared prepare(StreamChatRequest request, Principal caller) {
        return new Prepared(request, caller, new ChatTurn(downstreams, caller, request.getText(),
                                                          request.getSessionId(), request.getMaxMemories()));
    }

    private Cancellation start(Prepared prepared, StreamObserver<StreamChatResponse> out) {
        final StreamChatRequest request = prepared.request;
        final Principal caller = prepared.caller;
        final ChatTurn turn = prepared.turn;
        final ServiceRequestContext ctx = ServiceRequestContext.currentOrNull();
        final Executor blocking = ctx != null ? ctx.blockingTaskExecutor() : ForkJoinPool.commonPool();
        final long start = System.nanoTime();
        final ai.sonia.router.v1.StreamChatRequest routed =
                ai.sonia.router.v1.StreamChatRequest.newBuilder()
                                                    .setModel(request.getModel())
                                                    .addAllMessages(turn.messages())
                                                    .addAllContext(turn.context())
                                                    .setCaller(ChatOrchestrator.routerCaller(caller))
                                                    .build();
        final OnceObserver once = new OnceObserver(out);
        final RouterStream router = new RouterStream(turn, start, once, blocking);
        downstreams.routerAsync().streamChat(routed, router);
        if (ctx != null) {
            // The credential was checked when the stream began; one revoked since ends it (UNAUTHENTICATED).
            CredentialWatch.watch(ctx, () -> {
                once.onError(CredentialWatch.revoked()); // first: the router's CANCELLED is not the reason
                router.cancel(CredentialWatch.REVOKED);
            });
        }
        return router::cancel;
    }

    /** The caller's side of a stream that two parties may end: one at a time, and nothing after the end. */
    private static final class OnceObserver implements StreamObserver<StreamChatResponse> {
        private final StreamObserver<StreamChatResponse> out;
        private boolean ended;

        OnceObserver(StreamObserver<StreamChatResponse> out) {
            this.out = out;
        }

        @Override
        public synchronized void onNext(StreamChatResponse value) {
            if (!ended) {
                out.onNext(value);
            }
        }

        @Override
        public synchronized void onError(Throwable t) {
            if (!ended) {
                ended = true;
                out.onError(t);
            }
        }

        @Override
        public synchronized void onCompleted() {
            if (!ended) {
                ended = true;
                out.onCompleted();
            }
        }
    }

    /** Forwards the router's stream, and finishes the turn when it ends. */
    private static final class RouterStream
            implements ClientResponseObserver<ai.sonia.router.v1.StreamChatRequest, ai.sonia.router.v1.StreamChatResponse> {
        private final ChatTurn turn;
        private final long start;
        private final StreamObserver<StreamChatResponse> out;
        private final Executor blocking;
        private volatile ClientCallStreamObserver<ai.sonia.router.v1.StreamChatRequest> call;
        private ai.sonia.router.v1.ChatResponse last;
        private final StringBuilder reply = new StringBuilder();

        RouterStream(ChatTurn turn, long start, StreamObserver<StreamChatResponse> out, Executor blocking) {
            this.turn = turn;
            this.start = start;
            this.out = out;
            this.blocking = blocking;
        }

        @Override
        public void beforeStart(ClientCallStreamObserver<ai.sonia.router.v1.StreamChatRequest> call) {
            this.call = call;
        }

        void cancel(String why) {
            if (call != null) {
                call.cancel(why, null);
            }
        }

        @Override
        public void onNext(ai.sonia.router.v1.StreamChatResponse event) {
            if (event.getEventCase() == EventCase.DELTA) {
                reply.append(event.getDelta());
                out.onNext(StreamChatResponse.newBuilder().setChunk(event.getDelta()).build());
            } else if (event.getEventCase() == EventCase.FINAL) {
                last = event.getFinal();
            }
        }

        @Override
        public void onError(Throwable t) {
            turn.calls.record("router", "StreamChat", start, CallLog.errorCode(t));
            out.onError(t);
        }

        @Override
        public void onCompleted() {
            turn.calls.record("router", "StreamChat", start, "");
            final ai.sonia.router.v1.ChatResponse summary =
                    last != null ? last : ai.sonia.router.v1.ChatResponse.getDefaultInstance();
            // Storing the turn blocks: finish off the event loop that delivered the router's last message,
            // on the request's own executor so its correlation id and deadline still apply.
            blocking.execute(() -> {
                final String turnMemory = turn.storeTurn(Map.of());
                out.onNext(StreamChatResponse.newBuilder().setFinal(
                        turn.response(reply.toString(), summary.getModel(), summary.getDeployment(),
                                      summary.getProvider(), summary.getUsage())
                            .setTurnMemory(turnMemory)).build());
                out.onCompleted();
            });
        }
    }
}
