package ai.sonia.gateway.ws;

import java.time.Duration;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;

import com.linecorp.armeria.common.util.SafeCloseable;
import com.linecorp.armeria.common.websocket.WebSocket;
import com.linecorp.armeria.common.websocket.WebSocketCloseStatus;
import com.linecorp.armeria.common.websocket.WebSocketWriter;
import com.linecorp.armeria.server.ServiceRequestContext;
import com.linecorp.armeria.server.websocket.WebSocketServiceHandler;

import ai.sonia.evaos.v1.EvaOsServiceGrpc;
import ai.sonia.evaos.v1.WatchApprovalsRequest;
import ai.sonia.evaos.v1.WatchApprovalsResponse;
import ai.sonia.runtime.auth.CredentialWatch;
import ai.sonia.runtime.auth.Principal;
import ai.sonia.runtime.auth.ServiceCredentialInterceptor;
import ai.sonia.runtime.auth.StreamSlots;
import ai.sonia.runtime.edge.WebSocketKeepalive;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;

/**
 * {@code /ws/approvals}: EVA-OS's approval stream over a WebSocket, so a person can watch and decide from
 * a browser or any client: every pending approval first ({@code "change":"SNAPSHOT"}), then each change,
 * one JSON text frame per {@code WatchApprovalsResponse}. Pings are answered with pongs; a client silent for
 * {@code services.gateway.approvals.pingIntervalMillis} (20 s) is pinged, and closed with 1001 when it does
 * not answer within as long again. {@code ?pending_only=true} narrows it. When
 * EVA-OS is unreachable the socket closes with 1011 and the reason; when the client goes, the stream
 * to EVA-OS is cancelled. The handshake needs the browser origin allowed ({@code OriginPolicy}) and a
 * token ({@code Authorization} or {@code ?access_token=}); EVA-OS sees the approvals of that principal
 * (a plain user their own, an admin the tenant's) with secrets in their arguments masked.
 *
 * <p>One principal holds at most {@code services.gateway.approvals.maxStreamsPerPrincipal} (8) of these
 * sockets at once; past that, and when EVA-OS refuses a watch for the same reason, the socket closes at once
 * with {@value #LIMIT_CLOSE_CODE} (rate limited, as Pipecat's sockets do) and a reason naming the limit.
 */
public final class ApprovalsSocket implements WebSocketServiceHandler {

    /** The close code of a socket refused because its principal holds too many. */
    public static final int LIMIT_CLOSE_CODE = 4029;

    private static final JsonFormat.Printer printer =
            JsonFormat.printer().preservingProtoFieldNames().omittingInsignificantWhitespace();

    private final Channel evaos;
    private final StreamSlots slots;
    private final Duration pingInterval;

    /** {@code pingInterval}: a client silent this long is pinged, and dropped when silent as long again. */
    public ApprovalsSocket(Channel evaos, StreamSlots slots, Duration pingInterval) {
        this.evaos = evaos;
        this.slots = slots;
        this.pingInterval = pingInterval;
    }

    @Override
    public WebSocket handle(ServiceRequestContext ctx, WebSocket in) {
        ctx.clearRequestTimeout(); // a watch lives as long as the person watching
        final WebSocketWriter out = WebSocket.streaming();
        // The stream's callbacks run outside this request: name its principal on the call.
        final Principal principal;
        try (SafeCloseable ignored = ctx.push()) {
            principal = Principal.current();
        }
        final Runnable slot = slots.tryAcquire(principal);
        if (slot == null) {
            in.subscribe(new FrameDrain(frame -> {}, () -> {}));
            closeLimited(out, "too many approval sockets: at most " + slots.max() + " at once per principal");
            return out;
        }
        final Forwarder forwarder = new Forwarder(out);
        EvaOsServiceGrpc.newStub(evaos).withOption(ServiceCredentialInterceptor.ACTING_FOR, principal).watchApprovals(
                WatchApprovalsRequest.newBuilder()
                                     .setPendingOnly(Boolean.parseBoolean(ctx.queryParam("pending_only")))
                                     .build(), forwarder);
        // The credential was checked at the handshake; a watch outlives it, so check it again while it lasts:
        // a logged-out session, a deleted key or a demoted, disabled or deleted user ends the stream.
        final Runnable recheck = CredentialWatch.watch(
                ctx, () -> out.close(WebSocketCloseStatus.POLICY_VIOLATION, CredentialWatch.REVOKED));
        final Runnable end = () -> {
            recheck.run();
            forwarder.cancel();
            slot.run();
        };
        // Pings are answered at once; a client silent for a ping interval is pinged, and one that never
        // answers is let go (a half-open connection would otherwise hold its slot and its watch forever).
        final WebSocketKeepalive keepalive = new WebSocketKeepalive(out, pingInterval);
        keepalive.start(ctx.eventLoop(), () -> out.close(WebSocketCloseStatus.ENDPOINT_UNAVAILABLE, "no answer to ping"));
        in.subscribe(new FrameDrain(keepalive::heard, () -> { // nothing else to read; its end is the client leaving
            end.run();
            out.close();
        }));
        out.whenComplete().handle((unused, cause) -> {
            end.run();
            return null;
        });
        return out;
    }

    private static void closeLimited(WebSocketWriter out, String reason) {
        out.close(WebSocketCloseStatus.ofPrivateUse(LIMIT_CLOSE_CODE, reason), reason);
    }

    private static final class Forwarder implements ClientResponseObserver<WatchApprovalsRequest, WatchApprovalsResponse> {
        private final WebSocketWriter out;
        private volatile ClientCallStreamObserver<WatchApprovalsRequest> call;

        Forwarder(WebSocketWriter out) {
            this.out = out;
        }

        @Override
        public void beforeStart(ClientCallStreamObserver<WatchApprovalsRequest> call) {
            this.call = call;
        }

        void cancel() {
            if (call != null) {
                call.cancel("client went away", null);
            }
        }

        @Override
        public void onNext(WatchApprovalsResponse value) {
            try {
                out.tryWrite(printer.print(value));
            } catch (InvalidProtocolBufferException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public void onError(Throwable t) {
            final Status status = Status.fromThrowable(t);
            if (status.getCode() == Status.Code.RESOURCE_EXHAUSTED) {
                closeLimited(out, "approvals: " + status.getDescription());
            } else if (status.getCode() != Status.Code.CANCELLED) {
                out.close(WebSocketCloseStatus.INTERNAL_SERVER_ERROR,
                          "approvals unavailable: " + status.getCode() + ' ' + status.getDescription());
            }
        }

        @Override
        public void onCompleted() {
            out.close(WebSocketCloseStatus.NORMAL_CLOSURE, "approval stream ended");
        }
    }
}
