package ai.sonia.pipecat.ws;

import java.util.ArrayDeque;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import com.linecorp.armeria.common.annotation.Nullable;
import com.linecorp.armeria.common.websocket.WebSocketCloseStatus;
import com.linecorp.armeria.common.websocket.WebSocketFrame;
import com.linecorp.armeria.common.websocket.WebSocketWriter;

import ai.sonia.pipecat.domain.CloseCode;
import ai.sonia.pipecat.domain.ConversationOutput;
import ai.sonia.pipecat.domain.EventJson;
import ai.sonia.pipecat.v1.SessionEvent;
import ai.sonia.runtime.edge.WebSocketKeepalive;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.util.concurrent.EventExecutor;

/**
 * The server side of one WebSocket: events out as JSON frames through a bounded queue, pongs, keepalive
 * pings, and the close handshake.
 *
 * <p><b>Back-pressure.</b> At most {@link #WINDOW} frames wait in Armeria's writer; the rest wait here, up
 * to {@code sendQueue} events. A client that reads so slowly that the queue is full is closed with 4008
 * and the reason {@code too slow, resume from last_sequence=N}: {@code N} is the last session event handed
 * to the socket (the client gets it before the close frame), so reconnecting with
 * {@code ?last_sequence=N} replays the rest. Nothing is dropped silently.
 *
 * <p><b>Fan-out.</b> Frames are handed to the writer on the connection's own event loop, where Armeria writes
 * them at once; one task per event loop serves every socket of it that has something to send, instead of
 * one task per socket and event.
 *
 * <p><b>Closing.</b> Once both close frames have crossed, the server closes the TCP connection at once
 * (RFC 6455 §7.1.1), and {@code closeTimeout} after its own close frame if the client never answers.
 */
final class SocketLink implements ConversationOutput {

    /** Frames handed to Armeria's writer and not yet known to be written to the connection. */
    static final int WINDOW = 16;

    // A session delivers one event to all its sockets in a row on one thread: print it once, not once per socket.
    private static final ThreadLocal<Printed> lastPrinted = new ThreadLocal<>();

    private final WebSocketWriter writer;
    private final Channel channel;
    // The connection to close when the handshake is over; null on HTTP/2, where the stream ends by itself.
    private final @Nullable Channel ownConnection;
    private final ConversationSocket.SocketSettings settings;
    private final boolean binaryAudio;
    private final ArrayDeque<Object[]> queue = new ArrayDeque<>();
    private int inWriter;
    private boolean awaitingWriter;
    private boolean pumpScheduled;
    // Until the attach's replay is queued, nothing counts against the send queue (the replay is bounded);
    // then the replay still queued does not count until it has gone out.
    private int replayAllowance = Integer.MAX_VALUE / 2;
    private boolean attached;
    private long lastHandedSequence;
    private boolean closing;
    private boolean clientClosed;
    private boolean writerDone;
    private Runnable onGone = () -> {};
    private final WebSocketKeepalive keepalive;

    SocketLink(WebSocketWriter writer, Channel channel, @Nullable Channel ownConnection,
               ConversationSocket.SocketSettings settings, boolean binaryAudio) {
        this.writer = writer;
        this.channel = channel;
        this.ownConnection = ownConnection;
        this.settings = settings;
        this.binaryAudio = binaryAudio;
        keepalive = new WebSocketKeepalive(writer, settings.pingInterval());
        writer.whenComplete().handle((unused, cause) -> {
            writerDone();
            return null;
        });
    }

    /** What to run once the socket can take no more events (closed, or too slow). */
    synchronized void onGone(Runnable onGone) {
        this.onGone = onGone;
    }

    @Override
    public void deliver(SessionEvent event) {
        final Object[] frames;
        if (binaryAudio && !event.getAudio().isEmpty()) {
            // The event without its audio, then the audio itself as a binary frame: no base64 for browsers.
            frames = new Object[] { event.getSequence(), EventJson.print(event.toBuilder().clearAudio().build()),
                                    event.getAudio().toByteArray() };
        } else {
            final Printed cached = lastPrinted.get();
            final String json;
            if (cached != null && cached.event == event) {
                json = cached.json;
            } else {
                json = EventJson.print(event);
                lastPrinted.set(new Printed(event, json));
            }
            frames = new Object[] { event.getSequence(), json };
        }
        final long resumeFrom;
        synchronized (this) {
            if (closing) {
                return;
            }
            if (queue.size() < settings.sendQueue() + replayAllowance) {
                queue.addLast(frames);
                if (pumpScheduled) {
                    return;
                }
                pumpScheduled = true;
                resumeFrom = -1;
            } else {
                resumeFrom = lastHandedSequence;
            }
        }
        if (resumeFrom < 0) {
            LoopBatch.of(channel.eventLoop()).add(this);
        } else {
            close(CloseCode.TOO_SLOW, "too slow, resume from last_sequence=" + resumeFrom);
        }
    }

    /** The replay of the attach is queued. */
    @Override
    public synchronized void attached() {
        attached = true;
        replayAllowance = queue.size();
    }

    /** On the connection's event loop: hands queued frames to the writer, which writes them at once. */
    void pumpOnLoop() {
        synchronized (this) {
            pumpScheduled = false;
            if (!closing) {
                pump();
            }
        }
    }

    // Hands queued frames to the writer while it has room; called under the monitor.
    private void pump() {
        while (!queue.isEmpty() && inWriter < WINDOW) {
            final Object[] frames = queue.pollFirst();
            write(frames);
            inWriter++;
            if (queue.isEmpty() && attached) {
                replayAllowance = 0;
            }
            final long sequence = (long) frames[0];
            if (sequence > 0) {
                lastHandedSequence = sequence;
            }
        }
        // One completion callback per half window of frames, not one per frame: fan-out writes stay cheap.
        if (inWriter >= WINDOW / 2 && !awaitingWriter) {
            awaitingWriter = true;
            final int covered = inWriter;
            writer.whenConsumed().handle((unused, cause) -> {
                synchronized (this) {
                    awaitingWriter = false;
                    inWriter -= covered;
                    if (cause == null && !closing) {
                        pump();
                    }
                }
                return null;
            });
        }
    }

    private void write(Object[] frames) {
        for (int i = 1; i < frames.length; i++) {
            if (frames[i] instanceof String text) {
                writer.tryWrite(text);
            } else {
                writer.tryWrite((byte[]) frames[i]);
            }
        }
    }

    @Override
    public void close(CloseCode code, String reason) {
        final Runnable gone;
        synchronized (this) {
            if (closing) {
                return;
            }
            closing = true;
            if (code != CloseCode.TOO_SLOW) {
                // What was sent before the close (the ERROR that explains it, say) goes out before it.
                while (!queue.isEmpty()) {
                    write(queue.pollFirst());
                }
            }
            queue.clear();
            gone = onGone;
        }
        writer.close(code.code() >= 4000 ? WebSocketCloseStatus.ofPrivateUse(code.code(), reason)
                                         : WebSocketCloseStatus.valueOf(code.code()), reason);
        gone.run();
        // A client that never answers the close frame does not keep the connection.
        channel.eventLoop().schedule(this::disconnect, settings.closeTimeout().toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Any frame from the client shows it is there; a ping is answered with a pong at once. */
    void heard(WebSocketFrame frame) {
        keepalive.heard(frame);
    }

    /** The client's close frame arrived (or the connection is gone): answer it, then end the connection. */
    void clientClosed() {
        final boolean done;
        final Runnable gone;
        synchronized (this) {
            clientClosed = true;
            done = writerDone;
            closing = true;
            queue.clear();
            gone = onGone;
        }
        // Echoes the close when the server has not sent one yet; a no-op otherwise.
        writer.close();
        gone.run();
        if (done) {
            disconnect();
        }
    }

    // The server's last frame is out, or the connection is gone.
    private void writerDone() {
        final boolean done;
        final Runnable gone;
        synchronized (this) {
            writerDone = true;
            closing = true;
            done = clientClosed;
            gone = onGone;
        }
        gone.run();
        keepalive.stop();
        if (done) {
            disconnect();
        }
    }

    /** Pings a client silent for a ping interval; disconnects one silent for another after the ping. */
    void startKeepalive(ScheduledExecutorService eventLoop) {
        keepalive.start(eventLoop, this::disconnect);
        channel.closeFuture().addListener(unused -> keepalive.stop());
    }

    /**
     * The sockets of one event loop that have frames to hand over; one task drains them all, so an event
     * fanned out to thousands of sockets costs one task per event loop, not one per socket.
     */
    private static final class LoopBatch implements Runnable {
        private static final Map<EventExecutor, LoopBatch> batches = new ConcurrentHashMap<>();

        private final EventExecutor loop;
        private final Queue<SocketLink> links = new ConcurrentLinkedQueue<>();
        private final AtomicBoolean scheduled = new AtomicBoolean();

        private LoopBatch(EventExecutor loop) {
            this.loop = loop;
        }

        static LoopBatch of(EventExecutor loop) {
            return batches.computeIfAbsent(loop, LoopBatch::new);
        }

        void add(SocketLink link) {
            links.add(link);
            if (scheduled.compareAndSet(false, true)) {
                loop.execute(this);
            }
        }

        @Override
        public void run() {
            scheduled.set(false);
            SocketLink link;
            while ((link = links.poll()) != null) {
                link.pumpOnLoop();
            }
        }
    }

    // Flushes what was written (the close frame) and closes the connection, on its event loop.
    private void disconnect() {
        keepalive.stop();
        if (ownConnection == null) {
            writer.abort();
            return;
        }
        ownConnection.eventLoop().execute(() -> {
            if (ownConnection.isActive()) {
                ownConnection.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            }
        });
    }

    /** An event and its JSON. */
    private record Printed(SessionEvent event, String json) {}
}
