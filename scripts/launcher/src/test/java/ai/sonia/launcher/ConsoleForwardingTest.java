package ai.sonia.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The REST of EVA-OS's approvals and Memory reached through the gateway's origin (what the console calls),
 * over real HTTP against the six real services: the answer is the service's own, the service authenticates
 * the caller, and a cookie-authenticated change still needs the CSRF header. Runs without a browser.
 */
class ConsoleForwardingTest {

    static final ObjectMapper mapper = new ObjectMapper();
    static final HttpClient http = HttpClient.newHttpClient();
    static InProcessStack stack;
    static String gateway;
    static String token;

    @BeforeAll
    static void start() throws Exception {
        stack = new InProcessStack("console-forwarding", "{\"services\":{\"gateway\":{\"auth\":{\"bcryptCost\":4}}}}");
        gateway = "http://127.0.0.1:" + stack.port("gateway");
        final String password = Files.readString(stack.config().home().resolve("secrets/admin-password")).strip();
        token = mapper.readTree(send("POST", "/api/auth/login",
                                     "{\"username\":\"admin\",\"password\":\"" + password + "\"}", Map.of()).body())
                      .at("/data/access_token").asText();
    }

    @AfterAll
    static void stop() {
        stack.close();
    }

    @Test
    void approvalsAndMemoriesAnswerAsTheirServicesDo() throws Exception {
        final Map<String, String> bearer = Map.of("authorization", "Bearer " + token);
        final HttpResponse<String> approvals = send("GET", "/v1/approvals", null, bearer);
        assertThat(approvals.statusCode()).as(approvals.body()).isEqualTo(200);
        assertThat(mapper.readTree(approvals.body()).path("service").asText()).isEqualTo("evaos");

        final HttpResponse<String> stored = send("POST", "/v1/action",
                "{\"tool_name\":\"memory.store\",\"arguments\":{\"text\":\"The ferry leaves at seven.\"}}", bearer);
        assertThat(stored.statusCode()).as(stored.body()).isEqualTo(200);
        final HttpResponse<String> search = send("POST", "/v1/memories:search", "{\"query\":\"ferry\"}", bearer);
        assertThat(search.statusCode()).as(search.body()).isEqualTo(200);
        final JsonNode found = mapper.readTree(search.body());
        assertThat(found.path("service").asText()).isEqualTo("memory");
        final String name = found.at("/data/hits/0/memory/name").asText();
        assertThat(name).startsWith("memories/");

        final HttpResponse<String> forgotten = send("POST", "/v1/" + name + ":forget", "{}", bearer);
        assertThat(forgotten.statusCode()).as(forgotten.body()).isEqualTo(200);
        assertThat(send("GET", "/v1/" + name, null, bearer).statusCode()).isEqualTo(404);
        // The same URL on the gateway and on the service itself: one answer.
        assertThat(send("GET", "/v1/approvals/no-such-approval", null, bearer).statusCode()).isEqualTo(404);
    }

    @Test
    void theRoutersReadsAndPipecatsSessionsAndSocketAnswerAsTheirServicesDo() throws Exception {
        final Map<String, String> bearer = Map.of("authorization", "Bearer " + token);
        for (String path : List.of("/v1/budget", "/v1/usage", "/v1/usage:forecast")) {
            final HttpResponse<String> read = send("GET", path, null, bearer);
            assertThat(read.statusCode()).as(read.body()).isEqualTo(200);
            assertThat(mapper.readTree(read.body()).path("service").asText()).as(path).isEqualTo("router");
        }
        // Only the router's reads: its chat is the gateway's to orchestrate, nothing else of it is reachable here.
        assertThat(send("POST", "/v1/chat:complete", "{}", bearer).statusCode()).isEqualTo(404);

        final HttpResponse<String> started = send("POST", "/session/start", "{}", bearer);
        assertThat(started.statusCode()).as(started.body()).isEqualTo(200);
        final String id = mapper.readTree(started.body()).at("/data/session_id").asText();
        final HttpResponse<String> listed = send("GET", "/sessions", null, bearer);
        assertThat(mapper.readTree(listed.body()).path("service").asText()).isEqualTo("pipecat");
        assertThat(listed.body()).contains(id);
        final HttpResponse<String> audit = send("GET", "/v1/auditRecords", null, bearer);
        assertThat(mapper.readTree(audit.body()).path("service").asText()).isEqualTo("memory");

        // Pipecat's conversation socket through the gateway: attached, the session's first event replayed.
        final java.util.concurrent.CompletableFuture<String> first = new java.util.concurrent.CompletableFuture<>();
        final java.net.http.WebSocket socket = http.newWebSocketBuilder().header("authorization", "Bearer " + token)
                .buildAsync(URI.create(gateway.replace("http", "ws") + "/ws/" + id + "?last_sequence=0"),
                            new java.net.http.WebSocket.Listener() {
                                @Override
                                public java.util.concurrent.CompletionStage<?> onText(java.net.http.WebSocket ws,
                                                                                      CharSequence data, boolean last) {
                                    first.complete(data.toString());
                                    return null;
                                }
                            }).join();
        final JsonNode event = mapper.readTree(first.get(10, java.util.concurrent.TimeUnit.SECONDS));
        assertThat(event.path("type").asText()).isEqualTo("EVENT_TYPE_SESSION_START");
        assertThat(event.path("session_id").asText()).isEqualTo(id);
        socket.sendClose(java.net.http.WebSocket.NORMAL_CLOSURE, "").join();
        // Another user's session (or none) closes as Pipecat closes it: 4001.
        final java.util.concurrent.CompletableFuture<Integer> closed = new java.util.concurrent.CompletableFuture<>();
        http.newWebSocketBuilder().header("authorization", "Bearer " + token)
            .buildAsync(URI.create(gateway.replace("http", "ws") + "/ws/no-such-session"), new java.net.http.WebSocket.Listener() {
                @Override
                public java.util.concurrent.CompletionStage<?> onClose(java.net.http.WebSocket ws, int code, String reason) {
                    closed.complete(code);
                    return null;
                }
            }).join();
        assertThat(closed.get(10, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo(4001);
    }

    @Test
    void oneUsersConsolesAtPipecatsLimitDoNotStopAnotherUsers() throws Exception {
        final Map<String, String> admin = Map.of("authorization", "Bearer " + token);
        final HttpResponse<String> registered = send("POST", "/api/auth/register",
                "{\"username\":\"bea\",\"password\":\"a long enough password\"}", admin);
        assertThat(registered.statusCode()).as(registered.body()).isEqualTo(200);
        final String bea = mapper.readTree(send("POST", "/api/auth/login",
                "{\"username\":\"bea\",\"password\":\"a long enough password\"}", Map.of()).body())
                                 .at("/data/access_token").asText();
        final String adminSession = mapper.readTree(send("POST", "/session/start", "{}", admin).body())
                                          .at("/data/session_id").asText();
        final String beaSession = mapper.readTree(send("POST", "/session/start", "{}",
                                                       Map.of("authorization", "Bearer " + bea)).body())
                                        .at("/data/session_id").asText();
        // Every socket reaches Pipecat from the gateway's one address; Pipecat counts each browser's (5 each).
        final List<java.net.Socket> open = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < 5; i++) {
                final java.net.Socket socket = rawSocket("127.0.0.2", adminSession, token);
                open.add(socket);
                assertThat(firstText(socket)).contains("EVENT_TYPE_SESSION_START");
            }
            try (java.net.Socket sixth = rawSocket("127.0.0.2", adminSession, token)) {
                assertThat(firstText(sixth)).contains("RATE_LIMITED");
            }
            try (java.net.Socket other = rawSocket("127.0.0.3", beaSession, bea)) {
                assertThat(firstText(other)).contains("EVENT_TYPE_SESSION_START");
            }
        } finally {
            for (java.net.Socket socket : open) {
                socket.close();
            }
        }
    }

    /** A WebSocket to the gateway's {@code /ws/<session>} from the local address {@code from}, past its 101. */
    private static java.net.Socket rawSocket(String from, String session, String bearer) throws Exception {
        final java.net.Socket socket = new java.net.Socket();
        socket.bind(new java.net.InetSocketAddress(from, 0));
        socket.connect(new java.net.InetSocketAddress("127.0.0.1", stack.port("gateway")), 5000);
        socket.setSoTimeout(10_000);
        socket.getOutputStream().write(("GET /ws/" + session + "?last_sequence=0 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                        + "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                                        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                                        + "Authorization: Bearer " + bearer + "\r\n\r\n")
                                               .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        final java.io.DataInputStream in = new java.io.DataInputStream(socket.getInputStream());
        final StringBuilder head = new StringBuilder();
        while (head.indexOf("\r\n\r\n") < 0) {
            head.append((char) in.readUnsignedByte());
        }
        assertThat(head.toString()).startsWith("HTTP/1.1 101");
        return socket;
    }

    /** The first text frame the server sends (its frames are not masked). */
    private static String firstText(java.net.Socket socket) throws Exception {
        final java.io.DataInputStream in = new java.io.DataInputStream(socket.getInputStream());
        while (true) {
            final int opcode = in.readUnsignedByte() & 0x0F;
            long length = in.readUnsignedByte() & 0x7F;
            if (length == 126) {
                length = in.readUnsignedShort();
            } else if (length == 127) {
                length = in.readLong();
            }
            final byte[] payload = new byte[(int) length];
            in.readFully(payload);
            if (opcode == 0x1) {
                return new String(payload, java.nio.charset.StandardCharsets.UTF_8);
            }
            assertThat(opcode).as("a close before any text").isNotEqualTo(0x8);
        }
    }

    @Test
    void theSeedsRoutesAnswerOnTheFrontDoorFromTheirOwnServices() throws Exception {
        final Map<String, String> bearer = Map.of("authorization", "Bearer " + token);
        final HttpResponse<String> remembered = send("POST", "/v1/remember",
                "{\"key\":\"ferry\",\"value\":\"The ferry leaves at nine.\"}", bearer);
        assertThat(remembered.statusCode()).as(remembered.body()).isEqualTo(200);
        assertThat(mapper.readTree(remembered.body()).path("service").asText()).isEqualTo("memory");
        final HttpResponse<String> recalled = send("GET", "/v1/recall/ferry", null, bearer);
        assertThat(recalled.statusCode()).as(recalled.body()).isEqualTo(200);
        assertThat(recalled.body()).contains("The ferry leaves at nine.");
        final HttpResponse<String> passages = send("POST", "/v1/rag/retrieve", "{\"query\":\"ferry\"}", bearer);
        assertThat(passages.statusCode()).as(passages.body()).isEqualTo(200);
        final HttpResponse<String> forecast = send("POST", "/v1/forecast", "{\"window_hours\":24}", bearer);
        assertThat(forecast.statusCode()).as(forecast.body()).isEqualTo(200);
        assertThat(mapper.readTree(forecast.body()).path("service").asText()).isEqualTo("router");
        assertThat(send("GET", "/v1/forecast/default?window_hours=24", null, bearer).statusCode()).isEqualTo(200);
        final HttpResponse<String> training = send("GET", "/v1/training/status/default", null, bearer);
        assertThat(training.statusCode()).as(training.body()).isEqualTo(200);
        assertThat(mapper.readTree(training.body()).path("service").asText()).isEqualTo("evaos");
        assertThat(send("GET", "/v1/recall/ferry", null, Map.of()).statusCode()).isEqualTo(401);
    }

    @Test
    void theCallerIsAuthenticatedAndCookieChangesNeedTheCsrfHeader() throws Exception {
        for (String path : List.of("/v1/approvals", "/v1/memories", "/v1/budget", "/sessions")) {
            assertThat(send("GET", path, null, Map.of()).statusCode()).as(path).isEqualTo(401);
        }
        final Map<String, String> cookie = Map.of("cookie", "sonia_session=" + token + "; sonia_csrf=abc");
        assertThat(send("GET", "/v1/approvals", null, cookie).statusCode()).isEqualTo(200);
        assertThat(send("POST", "/v1/memories:search", "{\"query\":\"ferry\"}", cookie).statusCode()).isEqualTo(403);
        final Map<String, String> withCsrf = Map.of("cookie", "sonia_session=" + token + "; sonia_csrf=abc",
                                                    "x-csrf-token", "abc");
        assertThat(send("POST", "/v1/memories:search", "{\"query\":\"ferry\"}", withCsrf).statusCode()).isEqualTo(200);
    }

    private static HttpResponse<String> send(String method, String path, String body, Map<String, String> headers)
            throws Exception {
        final HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(gateway + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
                .header("content-type", "application/json");
        headers.forEach(request::header);
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }
}
