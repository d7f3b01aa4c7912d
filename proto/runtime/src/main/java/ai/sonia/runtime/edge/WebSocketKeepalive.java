package ai.sonia.runtime.edge;

import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

import com.linecorp.armeria.common.annotation.Nullable;
import com.linecorp.armeria.common.websocket.WebSocketFrame;
import com.linecorp.armeria.common.websocket.WebSocketWriter;

/**
 * The server side of a WebSocket's liveness (RFC 6455 §5.5.2-3): a client's ping is answered with a pong
 * carrying its payload at once, a client silent for {@code interval} is pinged, and one still silent an
 * interval after the ping is given up ({@code onSilent}). Every frame from the client counts as hearing it.
 * One per socket; the checks run on the event loop given to {@link #start}.
 */
public final class WebSocketKeepalive {

    private final WebSocketWriter writer;
    private final long intervalNanos;
    private volatile long lastHeardNanos = System.nanoTime();
    private volatile long pingSentNanos;
    @Nullable
    private volatile ScheduledFuture<?> task;

    /** {@code interval}: the silence after which the client is pinged; zero turns pinging off (pongs stay). */
    public WebSocketKeepalive(WebSocketWriter writer, Duration interval) {
        if (interval.isNegative()) {
            throw new IllegalArgumentException("interval: " + interval + " (expected: >= 0)");
        }
        this.writer = writer;
        intervalNanos = interval.toNanos();
    }

    /**
     * A frame from the client arrived: it is there. A ping is answered with a pong of the same payload.
     * Call before the frame is closed.
     */
    public void heard(WebSocketFrame frame) {
        lastHeardNanos = System.nanoTime();
        pingSentNanos = 0;
        if (frame.type() == com.linecorp.armeria.common.websocket.WebSocketFrameType.PING) {
            writer.tryWrite(WebSocketFrame.ofPong(frame.array()));
        }
    }

    /** Starts pinging a silent client on {@code eventLoop}; {@code onSilent} runs when one never answers. */
    public void start(ScheduledExecutorService eventLoop, Runnable onSilent) {
        if (intervalNanos <= 0) {
            return;
        }
        final long periodMillis = Math.max(1, TimeUnit.NANOSECONDS.toMillis(intervalNanos) / 2);
        task = eventLoop.scheduleWithFixedDelay(() -> {
            final long now = System.nanoTime();
            final long pinged = pingSentNanos;
            if (pinged != 0 && now - pinged >= intervalNanos) {
                stop();
                onSilent.run();
            } else if (pinged == 0 && now - lastHeardNanos >= intervalNanos) {
                pingSentNanos = now;
                writer.tryWrite(WebSocketFrame.ofPing());
            }
        }, periodMillis, periodMillis, TimeUnit.MILLISECONDS);
        writer.whenComplete().handle((unused, cause) -> {
            stop();
            return null;
        });
    }

    /** Stops pinging (the socket is closing or gone). */
    public void stop() {
        final ScheduledFuture<?> scheduled = task;
        if (scheduled != null) {
            scheduled.cancel(false);
        }
    }
}
