package ai.sonia.runtime.edge;

import java.util.function.Function;

import com.linecorp.armeria.client.DecoratingHttpClientFunction;
import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.server.DecoratingHttpServiceFunction;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServiceRequestContext;

import io.netty.buffer.ByteBuf;

/**
 * Works around a bug of Armeria 1.36's WebSocket frame decoder, put in front of every {@code WebSocketService}
 * (and, by {@link #client()}, behind every {@code WebSocketClient}).
 *
 * <p>The decoder reads a frame's 16-bit extended payload length with {@code ByteBufsDecoderInput.readUnsignedShort},
 * which, when the two bytes arrived in different reads from the socket, falls back to
 * {@code StreamDecoderInput.readUnsignedShort}'s default: {@code (readByte() & 0xFF) << 8 | readByte()}, the second
 * byte sign-extended. A frame of 126 to 65535 bytes whose length has a low byte of 0x80 or more (640 bytes, 20 ms
 * of 16 kHz PCM16 audio, is 0x02 0x80) then reads as a negative length, and the connection is closed with 1002
 * "invalid data frame length (not using minimal length encoding)". Where the reads cut a client's bytes is chance
 * (how much the socket buffered while the server was busy), which made about one voice benchmark run in four lose
 * a session. This decorator re-cuts the request's data so that no piece ends between those two bytes: the first is
 * held back and goes in front of the next piece; every other piece passes untouched (no copy).
 */
public final class WebSocketLengthGuard implements DecoratingHttpServiceFunction {

    /**
     * The same for a {@code WebSocketClient} (its decoder is the same class): the response's data re-cut before
     * the client reads the server's frames.
     */
    public static DecoratingHttpClientFunction client() {
        return (delegate, ctx, req) -> delegate.execute(ctx, req).mapData(new Recut());
    }

    @Override
    public HttpResponse serve(HttpService delegate, ServiceRequestContext ctx, HttpRequest req) throws Exception {
        return delegate.serve(ctx, req.mapData(new Recut()));
    }

    /** The re-cutting of one request's data, piece by piece, in order. */
    static final class Recut implements Function<HttpData, HttpData> {

        // Where the stream is among frames: header bytes of the current frame seen, its header's length once known
        // (0 before its second byte), its payload length as read so far, payload bytes still to come.
        private int headerSeen;
        private int headerLength;
        private int lengthCode;
        private long payloadLength;
        private long payloadLeft;
        // The first byte of a 16-bit length held back from the previous piece (-1: none).
        private int held = -1;

        @Override
        public HttpData apply(HttpData data) {
            if (data.isEmpty()) {
                return data;
            }
            final ByteBuf buf = data.byteBuf();
            final boolean endsInLength = track(buf);
            if (held < 0 && !endsInLength) {
                return data;
            }
            final int keep = buf.readableBytes() - (endsInLength ? 1 : 0);
            final byte[] out = new byte[(held < 0 ? 0 : 1) + keep];
            if (held >= 0) {
                out[0] = (byte) held;
            }
            buf.getBytes(buf.readerIndex(), out, out.length - keep, keep);
            held = endsInLength ? buf.getByte(buf.writerIndex() - 1) & 0xFF : -1;
            final boolean endOfStream = data.isEndOfStream();
            data.close();
            return HttpData.wrap(out).withEndOfStream(endOfStream);
        }

        /** Follows the frames through {@code buf}; whether it ends just after the first byte of a 16-bit length. */
        private boolean track(ByteBuf buf) {
            final int end = buf.writerIndex();
            int i = buf.readerIndex();
            while (i < end) {
                if (payloadLeft > 0) {
                    final int skipped = (int) Math.min(payloadLeft, end - i);
                    payloadLeft -= skipped;
                    i += skipped;
                    continue;
                }
                final int b = buf.getByte(i++) & 0xFF;
                headerSeen++;
                if (headerSeen == 2) {
                    lengthCode = b & 0x7F;
                    final int extended = lengthCode == 126 ? 2 : lengthCode == 127 ? 8 : 0;
                    headerLength = 2 + extended + ((b & 0x80) != 0 ? 4 : 0);
                    payloadLength = extended == 0 ? lengthCode : 0;
                } else if (headerSeen > 2 && lengthCode >= 126 && headerSeen <= (lengthCode == 126 ? 4 : 10)) {
                    payloadLength = payloadLength << 8 | b;
                }
                if (headerSeen >= 2 && headerSeen == headerLength) {
                    // A corrupt 64-bit length is the decoder's to refuse; it closes the connection.
                    payloadLeft = Math.max(0, payloadLength);
                    headerSeen = 0;
                    headerLength = 0;
                }
            }
            return headerSeen == 3 && lengthCode == 126;
        }
    }
}
