package ai.sonia.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
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
 * People using an action that needs approval, through the real gateway, EVA-OS and OpenClaw, as they would:
 * the first-start admin logs in with the password the gateway wrote, registers Alice; Mallory signs up on her
 * own (a tenant of her own). Alice's action waits and shows up on her approvals WebSocket and never on
 * Mallory's; Alice may not decide a high-risk approval and Mallory cannot even see it; the admin approves it
 * once; the action runs exactly once, for Alice only, and changed arguments need a new approval.
 */
class ApprovalFlowIT {

    private static final ObjectMapper mapper = new ObjectMapper();
    private static final HttpClient http = HttpClient.newHttpClient();
    // touch changes the workspace: EVA-OS asks a person (ls, read-only, would simply run).
    private static final String TOUCH = "{\"tool_name\":\"shell.run\",\"args\":{\"argv\":[\"touch\",\"note.txt\"]}}";
    private static InProcessStack stack;
    private static String admin;
    private static String alice;
    private static String mallory;

    @BeforeAll
    static void start() throws Exception {
        stack = new InProcessStack("approvals", "{\"services\":{\"gateway\":{\"auth\":{\"registration\":\"open\","
                                                + "\"bcryptCost\":4}}}}");
        final String password = Files.readString(stack.config().home().resolve("secrets/admin-password")).trim();
        admin = login("admin", password);
        final HttpResponse<String> registered = post("gateway", "/api/auth/register", admin,
                                                     "{\"username\":\"alice\",\"password\":\"correct horse battery\"}");
        assertThat(registered.statusCode()).as(registered.body()).isEqualTo(200);
        alice = login("alice", "correct horse battery");
        final HttpResponse<String> signedUp = post("gateway", "/api/auth/register", null,
                                                   "{\"username\":\"mallory\",\"password\":\"staple battery horse\"}");
        assertThat(signedUp.statusCode()).as(signedUp.body()).isEqualTo(200);
        mallory = login("mallory", "staple battery horse");
    }

    @AfterAll
    static void stop() {
        stack.close();
    }

    @Test
    void anApprovedActionRunsExactlyOnceForItsTenantAndOnlyAnAdminDecidesIt() throws Exception {
        final List<JsonNode> alicesView = new CopyOnWriteArrayList<>();
        final List<JsonNode> mallorysView = new CopyOnWriteArrayList<>();
        final WebSocket aliceSocket = socket(alice, null, alicesView).join();
        final WebSocket mallorySocket = socket(mallory, null, mallorysView).join();

        final HttpResponse<String> waiting = post("gateway", "/v1/action", alice, TOUCH);
        assertThat(waiting.statusCode()).as(waiting.body()).isEqualTo(403);
        final JsonNode error = mapper.readTree(waiting.body()).get("error");
        assertThat(error.get("code").asText()).isEqualTo("APPROVAL_REQUIRED");
        final String approvalId = error.at("/details/metadata/approval_id").asText();
        assertThat(approvalId).isNotEmpty();
        await().atMost(Duration.ofSeconds(10)).until(() -> seen(alicesView, approvalId, "APPROVAL_STATE_PENDING"));

        // Alice may not decide a high-risk action; Mallory, of another tenant, cannot even find it.
        final String approve = "{\"approve\":true,\"grant_scope\":\"GRANT_SCOPE_ONCE\"}";
        final HttpResponse<String> byAlice = post("evaos", "/v1/approvals/" + approvalId + ":decide", alice, approve);
        assertThat(byAlice.statusCode()).as(byAlice.body()).isEqualTo(403);
        assertThat(mapper.readTree(byAlice.body()).at("/error/code").asText()).isEqualTo("PERMISSION_DENIED");
        assertThat(post("evaos", "/v1/approvals/" + approvalId + ":decide", mallory, approve).statusCode()).isEqualTo(404);
        assertThat(get("evaos", "/v1/approvals/" + approvalId, mallory).statusCode()).isEqualTo(404);
        assertThat(get("evaos", "/v1/approvals", mallory).body()).doesNotContain(approvalId);

        final HttpResponse<String> decided = post("evaos", "/v1/approvals/" + approvalId + ":decide", admin, approve);
        assertThat(decided.statusCode()).as(decided.body()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(10)).until(() -> seen(alicesView, approvalId, "APPROVAL_STATE_APPROVED"));

        // Mallory presenting Alice's approval gets a pending approval of her own: grants never cross tenants.
        final String approved = "{\"tool_name\":\"shell.run\",\"args\":{\"argv\":[\"touch\",\"note.txt\"]},"
                                + "\"approval_id\":\"" + approvalId + "\"}";
        final HttpResponse<String> stolen = post("gateway", "/v1/action", mallory, approved);
        assertThat(stolen.statusCode()).isEqualTo(403);
        assertThat(mapper.readTree(stolen.body()).at("/error/details/metadata/approval_id").asText())
                .isNotEqualTo(approvalId);

        final HttpResponse<String> ran = post("gateway", "/v1/action", alice, approved);
        assertThat(ran.statusCode()).as(ran.body()).isEqualTo(200);
        final JsonNode outcome = mapper.readTree(ran.body()).at("/data/outcome");
        assertThat(outcome.get("status").asText()).isEqualTo("EXECUTED");
        assertThat(outcome.at("/result/exit_code").asInt()).isZero();

        // Once means once, and the approval is bound to exactly what runs.
        final HttpResponse<String> again = post("gateway", "/v1/action", alice, approved);
        assertThat(again.statusCode()).isEqualTo(403);
        assertThat(mapper.readTree(again.body()).at("/error/code").asText()).isEqualTo("APPROVAL_REQUIRED");
        final HttpResponse<String> changed = post("gateway", "/v1/action", alice,
                "{\"tool_name\":\"shell.run\",\"args\":{\"argv\":[\"touch\",\"other.txt\"]},\"approval_id\":\""
                + approvalId + "\"}");
        assertThat(changed.statusCode()).isEqualTo(403);
        assertThat(mapper.readTree(changed.body()).at("/error/details/metadata/approval_id").asText())
                .isNotEqualTo(approvalId);

        // Everything Alice's socket saw, Mallory's never did.
        assertThat(mallorysView).noneMatch(e -> e.toString().contains(approvalId));
        aliceSocket.sendClose(WebSocket.NORMAL_CLOSURE, "done").join();
        mallorySocket.sendClose(WebSocket.NORMAL_CLOSURE, "done").join();
    }

    @Test
    void theApprovalsSocketNeedsAValidTokenAndALocalPage() {
        assertThat(socket(null, null, new CopyOnWriteArrayList<>())).failsWithin(Duration.ofSeconds(10))
                .withThrowableOfType(java.util.concurrent.ExecutionException.class).withStackTraceContaining("401");
        assertThat(socket(alice + "x", null, new CopyOnWriteArrayList<>())).failsWithin(Duration.ofSeconds(10))
                .withThrowableOfType(java.util.concurrent.ExecutionException.class).withStackTraceContaining("401");
        assertThat(socket(alice, "https://evil.example", new CopyOnWriteArrayList<>())).failsWithin(Duration.ofSeconds(10))
                .withThrowableOfType(java.util.concurrent.ExecutionException.class).withStackTraceContaining("403");
    }

    @Test
    void aLoggedOutTokenStopsWorkingAtEveryService() throws Exception {
        final String session = login("alice", "correct horse battery");
        assertThat(get("gateway", "/api/auth/me", session).statusCode()).isEqualTo(200);
        assertThat(get("evaos", "/v1/approvals", session).statusCode()).isEqualTo(200);
        assertThat(post("gateway", "/api/auth/logout", session, "{}").statusCode()).isEqualTo(200);
        assertThat(get("gateway", "/api/auth/me", session).statusCode()).isEqualTo(401);
        assertThat(get("gateway", "/v1/deps", session).statusCode()).isEqualTo(401);
        // The other services verify tokens on their own; they hear of the logout through the shared list.
        await().atMost(Duration.ofSeconds(5)).until(() -> get("evaos", "/v1/approvals", session).statusCode() == 401
                                                          && get("memory", "/v1/memories", session).statusCode() == 401);
        assertThat(get("evaos", "/v1/approvals", alice).statusCode()).isEqualTo(200); // her other login still works
    }

    @Test
    void keyDerivedTokensStopAtEveryServiceWhenTheOwnerChangesOrTheKeyIsDeleted() throws Exception {
        // Dora, an admin of the default tenant, with a key exchanged for an access token.
        assertThat(post("gateway", "/api/auth/register", admin, "{\"username\":\"dora\",\"password\":"
                        + "\"dora-password-12\",\"role\":\"ROLE_ADMIN\"}").statusCode()).isEqualTo(200);
        final String dora = login("dora", "dora-password-12");
        final String doraId = mapper.readTree(get("gateway", "/api/auth/me", dora).body()).at("/data/subject").asText();
        final String key = data(post("gateway", "/api/keys", dora, "{\"name\":\"ops\"}")).at("/secret").asText();
        final String keyToken = data(post("gateway", "/api/auth/token", key, "{}")).at("/access_token").asText();
        for (String token : List.of(dora, keyToken)) {
            assertThat(statusAtEveryService(token)).allSatisfy((service, code) -> assertThat(code).as(service).isEqualTo(200));
        }
        final Collector watching = new Collector(new CopyOnWriteArrayList<>());
        http.newWebSocketBuilder().buildAsync(URI.create("ws://127.0.0.1:" + stack.port("gateway") + "/ws/approvals"
                                                         + "?access_token=" + keyToken), watching).join();

        // Demoted: her tokens, her key's included, stop at all six services within a second.
        assertThat(put("gateway", "/api/users/" + doraId, admin, "{\"role\":\"ROLE_USER\"}").statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(1)).pollInterval(Duration.ofMillis(20))
               .until(() -> refusedEverywhere(dora) && refusedEverywhere(keyToken));
        // A socket opened with the key's token is closed too (policy violation), not left streaming.
        assertThat(watching.closed).succeedsWithin(Duration.ofSeconds(1)).isEqualTo(1008); // policy violation
        // Signed in again she is a plain user: she lists no users and decides no approvals.
        final String demoted = login("dora", "dora-password-12");
        assertThat(get("gateway", "/api/users", demoted).statusCode()).isEqualTo(403);
        assertThat(get("gateway", "/api/users", keyToken).statusCode()).isEqualTo(401);
        final String narrowed = data(post("gateway", "/api/auth/token", key, "{}")).at("/access_token").asText();
        assertThat(data(get("gateway", "/api/auth/me", narrowed)).at("/role").asText()).isEqualTo("ROLE_USER");

        // The key deleted (by Mallory, a self-registered user, too): its tokens stop everywhere.
        final JsonNode created = data(post("gateway", "/api/keys", mallory, "{\"name\":\"mine\"}"));
        final String malloryKey = created.at("/secret").asText();
        final String malloryKeyToken = data(post("gateway", "/api/auth/token", malloryKey, "{}")).at("/access_token").asText();
        assertThat(statusAtEveryService(malloryKeyToken).values()).containsOnly(200);
        socket(malloryKeyToken, null, new CopyOnWriteArrayList<>()).join().sendClose(WebSocket.NORMAL_CLOSURE, "ok").join();
        final String malloryKeyId = created.at("/key/key_id").asText();
        assertThat(delete("gateway", "/api/keys/" + malloryKeyId, mallory).statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(1)).pollInterval(Duration.ofMillis(20))
               .until(() -> refusedEverywhere(malloryKeyToken));
        assertThat(socket(malloryKeyToken, null, new CopyOnWriteArrayList<>())).failsWithin(Duration.ofSeconds(10))
                .withThrowableOfType(java.util.concurrent.ExecutionException.class).withStackTraceContaining("401");

        // Disabled, then deleted: nothing derived from her works anywhere.
        assertThat(put("gateway", "/api/users/" + doraId, admin, "{\"disabled\":true}").statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(1)).pollInterval(Duration.ofMillis(20))
               .until(() -> refusedEverywhere(demoted) && refusedEverywhere(narrowed));
        assertThat(put("gateway", "/api/users/" + doraId, admin, "{\"disabled\":false}").statusCode()).isEqualTo(200);
        final String again = login("dora", "dora-password-12");
        assertThat(statusAtEveryService(again).values()).containsOnly(200);
        assertThat(delete("gateway", "/api/users/" + doraId, admin).statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(1)).pollInterval(Duration.ofMillis(20)).until(() -> refusedEverywhere(again));
    }

    private static java.util.Map<String, Integer> statusAtEveryService(String token) throws Exception {
        final java.util.Map<String, Integer> codes = new java.util.TreeMap<>();
        for (String service : List.of("gateway", "router", "memory", "pipecat", "openclaw", "evaos")) {
            codes.put(service, get(service, "/status", token).statusCode());
        }
        return codes;
    }

    private static boolean refusedEverywhere(String token) throws Exception {
        return statusAtEveryService(token).values().stream().allMatch(code -> code == 401);
    }

    private static JsonNode data(HttpResponse<String> response) throws Exception {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return mapper.readTree(response.body()).get("data");
    }

    private static HttpResponse<String> put(String service, String path, String token, String json) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + stack.port(service) + path))
                                    .header("content-type", "application/json")
                                    .header("authorization", "Bearer " + token)
                                    .PUT(HttpRequest.BodyPublishers.ofString(json)).build(),
                         HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> delete(String service, String path, String token) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + stack.port(service) + path))
                                    .header("authorization", "Bearer " + token).DELETE().build(),
                         HttpResponse.BodyHandlers.ofString());
    }

    private static boolean seen(List<JsonNode> events, String approvalId, String state) {
        return events.stream().anyMatch(e -> e.at("/approval/approval_id").asText().equals(approvalId)
                                             && e.at("/approval/state").asText().equals(state));
    }

    private static java.util.concurrent.CompletableFuture<WebSocket> socket(String token, String origin,
                                                                            List<JsonNode> frames) {
        final WebSocket.Builder builder = http.newWebSocketBuilder();
        if (origin != null) {
            builder.header("Origin", origin);
        }
        final String query = token == null ? "" : "?access_token=" + token;
        return builder.buildAsync(URI.create("ws://127.0.0.1:" + stack.port("gateway") + "/ws/approvals" + query),
                                  new Collector(frames));
    }

    private static String login(String username, String password) throws Exception {
        final HttpResponse<String> response = post("gateway", "/api/auth/login", null,
                "{\"username\":\"" + username + "\",\"password\":\"" + password + "\"}");
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return mapper.readTree(response.body()).at("/data/access_token").asText();
    }

    private static HttpResponse<String> post(String service, String path, String token, String json) throws Exception {
        final HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + stack.port(service) + path))
                                                       .header("content-type", "application/json")
                                                       .POST(HttpRequest.BodyPublishers.ofString(json));
        if (token != null) {
            request.header("authorization", "Bearer " + token);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> get(String service, String path, String token) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + stack.port(service) + path))
                                    .header("authorization", "Bearer " + token).GET().build(),
                         HttpResponse.BodyHandlers.ofString());
    }

    /** Collects each JSON text frame. */
    private static final class Collector implements WebSocket.Listener {
        private final List<JsonNode> frames;
        private final StringBuilder partial = new StringBuilder();
        final java.util.concurrent.CompletableFuture<Integer> closed = new java.util.concurrent.CompletableFuture<>();

        Collector(List<JsonNode> frames) {
            this.frames = frames;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            closed.complete(statusCode);
            return null;
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
