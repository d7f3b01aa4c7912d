package ai.sonia.pipecat;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * A WebSocket client on a plain socket (RFC 6455 framing by hand), for what a library client hides: when
 * exactly the server closes TCP, a client that stops reading, one that never answers a ping.
 */
final class RawWs implements AutoCloseable {

    static final int TEXT = 0x1;
    static final int CLOSE = 0x8;
    static final int PING = 0x9;
    static final int PONG = 0xA;

    /** A frame from the server. */
    record Frame(int opcode, byte[] payload) {
        String text() {
            return new String(payload, StandardCharsets.UTF_8);
        }

        /** The status code of a close frame. */
        int closeCode() {
            return payload.length >= 2 ? ByteBuffer.wrap(payload, 0, 2).getShort() & 0xFFFF : 1005;
        }

        /** The reason of a close frame. */
        String closeReason() {
            return payload.length > 2 ? new String(payload, 2, payload.length - 2, StandardCharsets.UTF_8) : "";
        }
    }

    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;

    private RawWs(Socket socket) throws IOException {
        this.socket = socket;
        in = new DataInputStream(socket.getInputStream());
        out = socket.getOutputStream();
    }

    /**
     * Opens {@code /ws/<pathAndQuery>} with a bearer token; {@code receiveBuffer} > 0 sets a small TCP receive
     * window, so that a client that stops reading makes the server's writes back up soon.
     */
    static RawWs connect(int port, String pathAndQuery, String token, int receiveBuffer) throws IOException {
        final Socket socket = new Socket();
        if (receiveBuffer > 0) {
            socket.setReceiveBufferSize(receiveBuffer);
        }
        socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        socket.setSoTimeout(30_000);
        final RawWs ws = new RawWs(socket);
        final byte[] nonce = new byte[16];
        ThreadLocalRandom.current().nextBytes(nonce);
        final String request = "GET /ws/" + pathAndQuery + " HTTP/1.1\r\n"
                               + "Host: 127.0.0.1:" + port + "\r\n"
                               + "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                               + "Sec-WebSocket-Key: " + Base64.getEncoder().encodeToString(nonce) + "\r\n"
                               + "Sec-WebSocket-Version: 13\r\n"
                               + "Authorization: Bearer " + token + "\r\n\r\n";
        ws.out.write(request.getBytes(StandardCharsets.US_ASCII));
        ws.out.flush();
        final String status = ws.readLine();
        if (!status.contains(" 101 ")) {
            throw new IOException("handshake refused: " + status);
        }
        while (!ws.readLine().isEmpty()) {
            // Skips the response headers.
        }
        return ws;
    }

    /** The next frame; EOFException when the server closed the connection. */
    Frame read() throws IOException {
        final int b0 = in.readUnsignedByte();
        final int b1 = in.readUnsignedByte();
        long length = b1 & 0x7F;
        if (length == 126) {
            length = in.readUnsignedShort();
        } else if (length == 127) {
            length = in.readLong();
        }
        final byte[] payload = new byte[Math.toIntExact(length)];
        in.readFully(payload);
        return new Frame(b0 & 0x0F, payload);
    }

    void sendText(String text) throws IOException {
        send(TEXT, text.getBytes(StandardCharsets.UTF_8));
    }

    void sendClose(int code) throws IOException {
        send(CLOSE, new byte[] { (byte) (code >> 8), (byte) code });
    }

    /** Sends a masked frame, as a client must. */
    synchronized void send(int opcode, byte[] payload) throws IOException {
        final ByteArrayOutputStream frame = new ByteArrayOutputStream();
        frame.write(0x80 | opcode);
        if (payload.length < 126) {
            frame.write(0x80 | payload.length);
        } else {
            frame.write(0x80 | 126);
            frame.write(payload.length >> 8);
            frame.write(payload.length);
        }
        final byte[] mask = new byte[4];
        ThreadLocalRandom.current().nextBytes(mask);
        frame.write(mask);
        for (int i = 0; i < payload.length; i++) {
            frame.write(payload[i] ^ mask[i % 4]);
        }
        out.write(frame.toByteArray());
        out.flush();
    }

    /**
     * Sends {@code messages} chat messages, each once the one before is answered (its TURN arrived), reading
     * everything that comes on a thread of its own, unparsed: a client that never lags.
     */
    void chatTurnByTurn(int messages) throws Exception {
        final Semaphore turns = new Semaphore(0);
        final Thread drain = new Thread(() -> {
            try {
                while (true) {
                    final Frame frame = read();
                    if (frame.opcode() == TEXT && frame.text().contains("EVENT_TYPE_TURN")) {
                        turns.release();
                    }
                }
            } catch (IOException end) {
                // Closed.
            }
        });
        drain.setDaemon(true);
        drain.start();
        for (int i = 0; i < messages; i++) {
            sendText("{\"type\":\"EVENT_TYPE_MESSAGE\",\"text\":\"m" + i + "\"}");
            if (!turns.tryAcquire(30, TimeUnit.SECONDS)) {
                throw new IllegalStateException("message " + i + " not answered within 30 s");
            }
        }
    }

    /** Nanoseconds until the server closes the connection (end of stream), reading and dropping what comes. */
    long nanosUntilEof() throws IOException {
        final long start = System.nanoTime();
        final InputStream raw = socket.getInputStream();
        final byte[] sink = new byte[4096];
        try {
            while (raw.read(sink) >= 0) {
                // Drops anything after the close frame; there should be nothing.
            }
        } catch (java.net.SocketException reset) {
            // A reset ends it too.
        }
        return System.nanoTime() - start;
    }

    /** Whether the server closed the connection (read until end of stream or the timeout). */
    boolean eofWithin(int millis) throws IOException {
        socket.setSoTimeout(millis);
        try {
            while (true) {
                read();
            }
        } catch (EOFException | java.net.SocketException e) {
            return true;
        } catch (java.net.SocketTimeoutException e) {
            return false;
        }
    }

    private String readLine() throws IOException {
        final StringBuilder line = new StringBuilder();
        int c;
        while ((c = in.read()) != -1 && c != '\n') {
            if (c != '\r') {
                line.append((char) c);
            }
        }
        return line.toString();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
