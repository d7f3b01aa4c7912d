package ai.sonia.pipecat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

import org.awaitility.Awaitility;

import com.google.protobuf.util.JsonFormat;

import ai.sonia.pipecat.v1.SessionEvent;

/** A real WebSocket client (java.net.http) that records every event and the close code it gets. */
final class WsClient implements WebSocket.Listener {

    final List<SessionEvent> events = new CopyOnWriteArrayList<>();
    /** When each of {@link #events} arrived (System.nanoTime), in the same order. */
    final List<Long> arrivals = new CopyOnWriteArrayList<>();
    final CompletableFuture<Integer> closeCode = new CompletableFuture<>();
    volatile String closeReason;
    final java.util.concurrent.atomic.AtomicLong binaryBytes = new java.util.concurrent.atomic.AtomicLong();
    /** Pings the server sent (java.net.http answers each with a pong by itself). */
    final java.util.concurrent.atomic.AtomicInteger pings = new java.util.concurrent.atomic.AtomicInteger();
    /** Payloads of the pongs the server sent. */
    final List<String> pongs = new CopyOnWriteArrayList<>();
    private final StringBuilder partial = new StringBuilder();
    private WebSocket socket;

    static WsClient connect(int port, String sessionId, long lastSequence, String origin, String token)
            throws Exception {
        return connect(port, sessionId + "?last_sequence=" + lastSequence, origin, token);
    }

    /** Connects to {@code /ws/<pathAndQuery>}, sending {@code token} (when not null) as a bearer header. */
    static WsClient connect(int port, String pathAndQuery, String origin, String token) throws Exception {
        final java.util.Map<String, String> headers = new java.util.HashMap<>();
        if (origin != null) {
            headers.put("Origin", origin);
        }
        if (token != null) {
            headers.put("Authorization", "Bearer " + token);
        }
        return connect(port, pathAndQuery, headers);
    }

    /** Connects to {@code /ws/<pathAndQuery>} with these handshake headers. */
    static WsClient connect(int port, String pathAndQuery, java.util.Map<String, String> headers) throws Exception {
        final WsClient client = new WsClient();
        final WebSocket.Builder builder = HttpClient.newHttpClient().newWebSocketBuilder();
        headers.forEach(builder::header);
        client.socket = builder.buildAsync(URI.create("ws://127.0.0.1:" + port + "/ws/" + pathAndQuery), client)
                               .get();
        return client;
    }

    void send(String json) {
        socket.sendText(json, true).join();
    }

    void sendEvent(SessionEvent event) throws Exception {
        send(JsonFormat.printer().print(event));
    }

    void sendAudio(byte[] pcm) {
        try {
            socket.sendBinary(ByteBuffer.wrap(pcm), true).join();
        } catch (RuntimeException e) {
            throw new IllegalStateException("sending audio failed; the server closed with "
                                            + closeCode.getNow(null) + " " + closeReason, e);
        }
    }

    void ping(String payload) {
        socket.sendPing(ByteBuffer.wrap(payload.getBytes(java.nio.charset.StandardCharsets.UTF_8))).join();
    }

    void abort() {
        socket.abort();
    }

    void close() {
        socket.sendClose(WebSocket.NORMAL_CLOSURE, "bye").join();
    }

    /** Waits for an event matching {@code filter} and returns it. */
    SessionEvent await(Predicate<SessionEvent> filter) {
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> events.stream().anyMatch(filter));
        return events.stream().filter(filter).findFirst().orElseThrow();
    }

    int awaitClose() throws Exception {
        return closeCode.get(30, java.util.concurrent.TimeUnit.SECONDS);
    }

    /** Sequence numbers of the session stream received so far (connection-level events have 0). */
    List<Long> sequences() {
        final List<Long> seqs = new ArrayList<>();
        events.forEach(e -> {
            if (e.getSequence() > 0) {
                seqs.add(e.getSequence());
            }
        });
        return seqs;
    }

    @Override
    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
        partial.append(data);
        if (last) {
            final SessionEvent.Builder event = SessionEvent.newBuilder();
            try {
                JsonFormat.parser().merge(partial.toString(), event);
            } catch (Exception e) {
                throw new IllegalStateException("server sent a bad frame: " + partial, e);
            }
            partial.setLength(0);
            arrivals.add(System.nanoTime());
            events.add(event.build());
        }
        webSocket.request(1);
        return null;
    }

    @Override
    public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
        binaryBytes.addAndGet(data.remaining());
        webSocket.request(1);
        return null;
    }

    @Override
    public CompletionStage<?> onPing(WebSocket webSocket, ByteBuffer message) {
        pings.incrementAndGet();
        webSocket.request(1);
        return null;
    }

    @Override
    public CompletionStage<?> onPong(WebSocket webSocket, ByteBuffer message) {
        pongs.add(java.nio.charset.StandardCharsets.UTF_8.decode(message).toString());
        webSocket.request(1);
        return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
        closeReason = reason;
        closeCode.complete(statusCode);
        return null;
    }

    @Override
    public void onError(WebSocket webSocket, Throwable error) {
        closeCode.completeExceptionally(error);
    }
}
