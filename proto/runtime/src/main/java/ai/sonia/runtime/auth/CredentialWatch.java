package ai.sonia.runtime.auth;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

import com.linecorp.armeria.server.ServiceRequestContext;

import ai.sonia.common.v1.ErrorCode;
import ai.sonia.runtime.Errors;
import io.grpc.StatusRuntimeException;

/**
 * Ends long-lived requests (WebSockets, gRPC and SSE streams) whose credential is revoked while they are
 * open: the credential is checked once at the start ({@link AuthDecorator}), so a stream would otherwise
 * outlive a logged-out session, a deleted API key or a disabled, deleted or demoted user. A watch re-checks
 * {@link AuthDecorator#stillValid} every {@value #PERIOD_MS} ms on the request's event loop (a map look-up
 * for an access token) and, the first time it fails, stops and runs the stream's own way of ending; it also
 * stops by itself when the request ends. The stream ends {@value #PERIOD_MS} ms plus the revocation list's
 * refresh (200 ms) after the revocation at most.
 */
public final class CredentialWatch {

    /** How often an open stream's credential is checked again. */
    public static final long PERIOD_MS = 250;

    /** The reason a WebSocket closes with (1008, policy violation) and the message of the gRPC status. */
    public static final String REVOKED = "credential revoked";

    /**
     * Watches the credential of {@code ctx}'s request; runs {@code onRevoked} once, on the event loop, when it
     * is revoked. Returns what stops the watch (safe to call more than once, from any thread).
     */
    public static Runnable watch(ServiceRequestContext ctx, Runnable onRevoked) {
        final BooleanSupplier stillValid = AuthDecorator.stillValid(ctx);
        final AtomicBoolean over = new AtomicBoolean();
        final CompletableFuture<ScheduledFuture<?>> task = new CompletableFuture<>();
        final Runnable stop = () -> {
            if (over.compareAndSet(false, true)) {
                task.thenAccept(scheduled -> scheduled.cancel(false));
            }
        };
        task.complete(ctx.eventLoop().scheduleAtFixedRate(() -> {
            if (!over.get() && !stillValid.getAsBoolean() && over.compareAndSet(false, true)) {
                task.thenAccept(scheduled -> scheduled.cancel(false));
                onRevoked.run();
            }
        }, PERIOD_MS, PERIOD_MS, TimeUnit.MILLISECONDS));
        ctx.log().whenComplete().thenRun(stop);
        return stop;
    }

    /** How a gRPC stream ends when its credential is revoked: UNAUTHENTICATED with ErrorInfo. */
    public static StatusRuntimeException revoked() {
        return Errors.of("auth", ErrorCode.ERROR_CODE_UNAUTHENTICATED,
                         REVOKED + ": its session was logged out, its API key deleted or its user changed",
                         Map.of("cause", "CREDENTIAL_REVOKED"));
    }

    private CredentialWatch() {}
}
