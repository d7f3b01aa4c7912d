package ai.sonia.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * A person's side of an action that needs approval, through the real gateway, EVA-OS and OpenClaw: the
 * action waits, the approval shows up on the gateway's WebSocket, a person approves it once, the same
 * action with its approval id runs exactly once, and changed arguments need a new approval.
 */
class ApprovalFlowIT {

    private static final ObjectMapper mapper = new ObjectMapper();
    private static final HttpClient http = HttpClient.newHttpClient();
    // touch changes the workspace: EVA-OS asks a person (ls, read-only, would simply run).
    private static final String TOUCH = "{\"tool_name\":\"shell.run\",\"args\":{\"argv\":[\"touch\",\"note.txt\"]}}";
    private static InProcessStack stack;

    @BeforeAll
    static void start() {
        stack = new InProcessStack("approvals", "{}");
    }

    @AfterAll
    static void stop() {
        stack.close();
    }

    @Test
    void anApprovedActionRunsExactlyOnceAndTheApprovalIsWatchedOverTheWebSocket() throws Exception {
        final List<JsonNode> watched = new CopyOnWriteArrayList<>();
        final WebSocket socket = http.newWebSocketBuilder()
                                     .buildAsync(URI.create("ws://127.0.0.1:" + stack.port("gateway") + "/ws/approvals"),
                                                 new Collector(watched)).join();

        final HttpResponse<String> waiting = post("gateway", "/v1/action", TOUCH);
        assertThat(waiting.statusCode()).as(waiting.body()).isEqualTo(403);
        final JsonNode error = mapper.readTree(waiting.body()).get("error");
        assertThat(error.get("code").asText()).isEqualTo("APPROVAL_REQUIRED");
        final String approvalId = error.at("/details/metadata/approval_id").asText();
        assertThat(approvalId).isNotEmpty();

        await().atMost(Duration.ofSeconds(10)).until(() -> watched.stream().anyMatch(
                e -> e.at("/approval/approval_id").asText().equals(approvalId)
                     && e.at("/approval/state").asText().equals("APPROVAL_STATE_PENDING")));

        final HttpResponse<String> decided = post("evaos", "/v1/approvals/" + approvalId + ":decide",
                                                  "{\"approve\":true,\"grant_scope\":\"GRANT_SCOPE_ONCE\"}");
        assertThat(decided.statusCode()).as(decided.body()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(10)).until(() -> watched.stream().anyMatch(
                e -> e.at("/approval/approval_id").asText().equals(approvalId)
                     && e.at("/approval/state").asText().equals("APPROVAL_STATE_APPROVED")));

        final String approved = "{\"tool_name\":\"shell.run\",\"args\":{\"argv\":[\"touch\",\"note.txt\"]},"
                                + "\"approval_id\":\"" + approvalId + "\"}";
        final HttpResponse<String> ran = post("gateway", "/v1/action", approved);
        assertThat(ran.statusCode()).as(ran.body()).isEqualTo(200);
        final JsonNode outcome = mapper.readTree(ran.body()).at("/data/outcome");
        assertThat(outcome.get("status").asText()).isEqualTo("EXECUTED");
        assertThat(outcome.at("/result/exit_code").asInt()).isZero();

        // Once means once: the same action with the same approval does not run again.
        final HttpResponse<String> again = post("gateway", "/v1/action", approved);
        assertThat(again.statusCode()).isEqualTo(403);
        assertThat(mapper.readTree(again.body()).at("/error/code").asText()).isEqualTo("APPROVAL_REQUIRED");

        // The approval is bound to exactly what runs: other arguments need their own.
        final HttpResponse<String> changed = post("gateway", "/v1/action",
                "{\"tool_name\":\"shell.run\",\"args\":{\"argv\":[\"touch\",\"other.txt\"]},\"approval_id\":\""
                + approvalId + "\"}");
        assertThat(changed.statusCode()).isEqualTo(403);
        assertThat(mapper.readTree(changed.body()).at("/error/details/metadata/approval_id").asText())
                .isNotEqualTo(approvalId);
        socket.sendClose(WebSocket.NORMAL_CLOSURE, "done").join();
    }

    @Test
    void aPageFromAnotherSiteCannotOpenTheApprovalsSocket() {
        final var attempt = http.newWebSocketBuilder().header("Origin", "https://evil.example")
                                .buildAsync(URI.create("ws://127.0.0.1:" + stack.port("gateway") + "/ws/approvals"),
                                            new Collector(new CopyOnWriteArrayList<>()));
        assertThat(attempt).failsWithin(Duration.ofSeconds(10)).withThrowableOfType(java.util.concurrent.ExecutionException.class)
                           .withStackTraceContaining("403");
    }

    private static HttpResponse<String> post(String service, String path, String json) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + stack.port(service) + path))
                                    .header("content-type", "application/json")
                                    .POST(HttpRequest.BodyPublishers.ofString(json)).build(),
                         HttpResponse.BodyHandlers.ofString());
    }

    /** Collects each JSON text frame. */
    private static final class Collector implements WebSocket.Listener {
        private final List<JsonNode> frames;
        private final StringBuilder partial = new StringBuilder();

        Collector(List<JsonNode> frames) {
            this.frames = frames;
        }

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                try {
                    frames.add(mapper.readTree(partial.toString()));
                } catch (Exception e) {
                    throw new CompletionException(e);
                }
                partial.setLength(0);
            }
            webSocket.request(1);
            return null;
        }
    }
}
