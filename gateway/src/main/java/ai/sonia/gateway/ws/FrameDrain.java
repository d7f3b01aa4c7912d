package ai.sonia.gateway.ws;

import java.util.function.Consumer;

import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;

import com.linecorp.armeria.common.websocket.WebSocketFrame;

/**
 * Reads a WebSocket's incoming frames: shows each to {@code onFrame}, then releases it; runs {@code onEnd} when
 * the other side goes (closed or failed).
 */
public final class FrameDrain implements Subscriber<WebSocketFrame> {
    private final Consumer<WebSocketFrame> onFrame;
    private final Runnable onEnd;

    public FrameDrain(Consumer<WebSocketFrame> onFrame, Runnable onEnd) {
        this.onFrame = onFrame;
        this.onEnd = onEnd;
    }

    @Override
    public void onSubscribe(Subscription s) {
        s.request(Long.MAX_VALUE);
    }

    @Override
    public void onNext(WebSocketFrame frame) {
        try {
            onFrame.accept(frame);
        } finally {
            frame.close();
        }
    }

    @Override
    public void onError(Throwable t) {
        onEnd.run();
    }

    @Override
    public void onComplete() {
        onEnd.run();
    }
}
