package ai.sonia.runtime.edge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

import com.linecorp.armeria.client.ClientRequestContext;
import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpRequestWriter;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpResponseWriter;
import com.linecorp.armeria.common.RequestHeaders;
import com.linecorp.armeria.common.ResponseHeaders;
import com.linecorp.armeria.common.websocket.WebSocketFrame;
import com.linecorp.armeria.server.ServiceRequestContext;
import com.linecorp.armeria.server.websocket.WebSocketService;

/**
 * A client's masked frames, cut into reads at every place, go through Armeria's own WebSocket frame decoder (the
 * one {@code WebSocketService} uses) behind {@link WebSocketLengthGuard}: every frame comes out whole, wherever the
 * cuts fell. Without the guard, a cut between the two bytes of a 640-byte frame's length closes the connection.
 */
class WebSocketLengthGuardTest {

    private static final WebSocketService service =
            WebSocketService.builder((ctx, in) -> in).allowedOrigins("*").maxFramePayloadLength(1 << 20).build();

    private static final byte[] AUDIO = payload(640, 1); // 20 ms of 16 kHz PCM16: length bytes 0x02 0x80
    private static final List<byte[]> PAYLOADS = List.of(
            AUDIO, "{\"type\":\"EVENT_TYPE_MESSAGE\"}".getBytes(StandardCharsets.UTF_8), payload(200, 2),
            new byte[0], payload(130, 3), AUDIO, payload(125, 5), payload(126, 6), AUDIO, payload(65_536, 4));
    private static final byte[] STREAM = stream(true);
    // A client's decoder: the same class, with unmasked frames from the server.
    private static final WebSocketService unmasked = WebSocketService.builder((ctx, in) -> in).allowedOrigins("*")
                                                                     .allowMaskMismatch(true)
                                                                     .maxFramePayloadLength(1 << 20).build();

    @Test
    void everyFrameComesOutWholeWhereverTheReadsCutTheBytes() {
        for (int cut = 1; cut < STREAM.length - 65_000; cut++) { // up into the last frame's payload
            assertDecodesWhole(List.of(slice(0, cut), slice(cut, STREAM.length)));
        }
        // Every byte a read of its own (up into the last frame's payload), then random cuts into pieces of 1 to 7.
        final List<byte[]> bytes = new ArrayList<>();
        final int last = STREAM.length - 65_000;
        for (int i = 0; i < last; i++) {
            bytes.add(slice(i, i + 1));
        }
        bytes.add(slice(last, STREAM.length));
        assertDecodesWhole(bytes);
        final Random random = new Random(42);
        for (int run = 0; run < 5; run++) {
            final List<byte[]> pieces = new ArrayList<>();
            for (int at = 0; at < STREAM.length;) {
                final int next = Math.min(STREAM.length, at + 1 + random.nextInt(7));
                pieces.add(slice(at, next));
                at = next;
            }
            assertDecodesWhole(pieces);
        }
    }

    @Test
    void withoutTheGuardACutInsideA640ByteFramesLengthClosesTheConnection() {
        // 0x82 (binary, final), 0xFE (masked, 16-bit length), 0x02 | 0x80 ...: the read ends after 0x02.
        final List<byte[]> pieces = List.of(slice(0, 3), slice(3, STREAM.length));
        assertThatThrownBy(() -> decode(pieces, false))
                .isInstanceOf(CompletionException.class)
                .hasStackTraceContaining("not using minimal length encoding");
        assertDecodesWhole(pieces);
    }

    @Test
    void aClientReadsAServersUnmaskedFramesWholeWhereverTheReadsCutThem() throws Exception {
        final byte[] stream = stream(false);
        for (int cut = 1; cut < stream.length - 65_000; cut++) {
            final HttpResponseWriter response = HttpResponse.streaming();
            final HttpRequest request = HttpRequest.of(HttpMethod.GET, "/ws");
            final HttpResponse read = WebSocketLengthGuard.client().execute(
                    (c, r) -> response, ClientRequestContext.of(request), request);
            final var pieces = read.split().body().collect();
            response.write(ResponseHeaders.of(200));
            response.write(HttpData.copyOf(java.util.Arrays.copyOfRange(stream, 0, cut)));
            response.write(HttpData.copyOf(java.util.Arrays.copyOfRange(stream, cut, stream.length)));
            response.close();
            final List<byte[]> recut = new ArrayList<>();
            pieces.join().forEach(data -> {
                recut.add(data.array());
                data.close();
            });
            assertThat(decode(recut, unmasked, false)).map(WebSocketFrame::array).containsExactlyElementsOf(PAYLOADS);
        }
    }

    private static void assertDecodesWhole(List<byte[]> pieces) {
        final List<WebSocketFrame> frames = decode(pieces, true);
        assertThat(frames).hasSize(PAYLOADS.size());
        for (int i = 0; i < frames.size(); i++) {
            assertThat(frames.get(i).array()).as("frame %d", i).isEqualTo(PAYLOADS.get(i));
            frames.get(i).close();
        }
    }

    private static List<WebSocketFrame> decode(List<byte[]> pieces, boolean guarded) {
        return decode(pieces, service, guarded);
    }

    // The pieces as reads of a request to `service`'s decoder, through the guard or not.
    private static List<WebSocketFrame> decode(List<byte[]> pieces, WebSocketService service, boolean guarded) {
        final HttpRequestWriter request = HttpRequest.streaming(RequestHeaders.of(HttpMethod.GET, "/ws"));
        final ServiceRequestContext ctx = ServiceRequestContext.of(request);
        final AtomicReference<HttpRequest> seen = new AtomicReference<>(request);
        if (guarded) {
            try {
                new WebSocketLengthGuard().serve((c, r) -> {
                    seen.set(r);
                    return HttpResponse.of(200);
                }, ctx, request);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
        final var frames = service.protocolHandler().decode(ctx, seen.get()).collect();
        pieces.forEach(piece -> request.write(HttpData.copyOf(piece)));
        request.close();
        return frames.join();
    }

    // Each payload as a client (masked) or a server (not) sends it (RFC 6455 §5.2), the shortest length encoding.
    private static byte[] stream(boolean masked) {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final int maskBit = masked ? 0x80 : 0;
        final byte[] mask = { 0x37, (byte) 0xFA, 0x21, (byte) 0x9D };
        for (int i = 0; i < PAYLOADS.size(); i++) {
            final byte[] payload = PAYLOADS.get(i);
            out.write(i == 1 ? 0x81 : 0x82); // FIN + text (the one JSON event) or binary
            if (payload.length < 126) {
                out.write(maskBit | payload.length);
            } else if (payload.length < 65536) {
                out.write(maskBit | 126);
                out.write(payload.length >>> 8);
                out.write(payload.length & 0xFF);
            } else {
                out.write(maskBit | 127);
                for (int shift = 56; shift >= 0; shift -= 8) {
                    out.write((int) ((long) payload.length >>> shift) & 0xFF);
                }
            }
            if (masked) {
                out.writeBytes(mask);
            }
            for (int k = 0; k < payload.length; k++) {
                out.write(masked ? payload[k] ^ mask[k & 3] : payload[k]);
            }
        }
        return out.toByteArray();
    }

    private static byte[] payload(int length, int seed) {
        final byte[] bytes = new byte[length];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    private static byte[] slice(int from, int to) {
        return java.util.Arrays.copyOfRange(STREAM, from, to);
    }
}
