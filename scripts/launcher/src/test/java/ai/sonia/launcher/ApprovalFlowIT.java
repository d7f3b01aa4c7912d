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

import ai.sonia.runtime.testing.TestCredentials;

/**
 * People using an action that needs approval, through the real gateway, EVA-OS and OpenClaw, as they would:
 * the first-start admin logs in with the password the gateway wrote, registers Alice; Mallory signs up on her
 * own (a tenant of her own). Alice's action waits and shows up on her approvals WebSocket and never on
 * Mallory's; Alice may not decide a high-risk approval and Mallory cannot even see it; the admin approves it
 * once; the action runs exactly once, for Alice only, and changed arguments need a new approval. Between
 * users of one tenant (Alice, Bob): an approval is its requester's over REST, gRPC and the WebSocket, its
 * secrets are masked wherever it is shown, Alice cannot approve her own fetch, and a pattern grant of hers
 * never runs Bob's action; one principal holds at most eight approval sockets.
 */
class ApprovalFlowIT {

    // What the code promises is that this happens, within about a second on an idle machine (a poll period, a
    // NOTIFY): that latency is a figure of the benchmarks. A loaded 2-core CI machine can hold a poll or a
    // listener back for longer, so the tests give it 10 s: they prove it happens, not how fast.
    private static final Duration PROMPTLY = Duration.ofSeconds(10);

    private static final ObjectMapper mapper = new ObjectMapper();
    private static final HttpClient http = HttpClient.newHttpClient();
    // touch changes the workspace: EVA-OS asks a person (ls, read-only, would simply run).
    private static final String TOUCH = "{\"tool_name\":\"shell.run\",\"arguments\":{\"argv\":[\"touch\",\"note.txt\"]}}";
    private static InProcessStack stack;
    private static String admin;
    private static String alice;
    private static String mallory;
    private static String bob;
    private static String carol;

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
        // Bob and Carol: plain users of the same tenant as Alice.
        for (String user : List.of("bob", "carol")) {
            final HttpResponse<String> same = post("gateway", "/api/auth/register", admin,
                                                   "{\"username\":\"" + user + "\",\"password\":\"battery staple " + user
                                                   + "\"}");
            assertThat(same.statusCode()).as(same.body()).isEqualTo(200);
        }
        bob = login("bob", "battery staple bob");
        carol = login("carol", "battery staple carol");
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
        final String approved = "{\"tool_name\":\"shell.run\",\"arguments\":{\"argv\":[\"touch\",\"note.txt\"]},"
                                + "\"approval_id\":\"" + approvalId + "\"}";
        final HttpResponse<String> stolen = post("gateway", "/v1/action", mallory, approved);
        assertThat(stolen.statusCode()).isEqualTo(403);
        assertThat(mapper.readTree(stolen.body()).at("/error/details/metadata/approval_id").asText())
                .isNotEqualTo(approvalId);

        final HttpResponse<String> ran = post("gateway", "/v1/action", alice, approved);
        if (ToolsSandbox.missing()) {
            assertThat(mallorysView).noneMatch(e -> e.toString().contains(approvalId));
            aliceSocket.sendClose(WebSocket.NORMAL_CLOSURE, "done").join();
            mallorySocket.sendClose(WebSocket.NORMAL_CLOSURE, "done").join();
            ToolsSandbox.ifMissingExpectRefusal(ran.statusCode(), ran.body());
        }
        assertThat(ran.statusCode()).as(ran.body()).isEqualTo(200);
        final JsonNode outcome = mapper.readTree(ran.body()).at("/data/outcome");
        assertThat(outcome.get("status").asText()).isEqualTo("ACTION_STATUS_EXECUTED");
        assertThat(outcome.at("/result/exit_code").asInt()).isZero();

        // Once means once, and the approval is bound to exactly what runs.
        final HttpResponse<String> again = post("gateway", "/v1/action", alice, approved);
        assertThat(again.statusCode()).isEqualTo(403);
        assertThat(mapper.readTree(again.body()).at("/error/code").asText()).isEqualTo("APPROVAL_REQUIRED");
        final HttpResponse<String> changed = post("gateway", "/v1/action", alice,
                "{\"tool_name\":\"shell.run\",\"arguments\":{\"argv\":[\"touch\",\"other.txt\"]},\"approval_id\":\""
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

        // Demoted: her tokens, her key's included, stop at all six services.
        assertThat(put("gateway", "/api/users/" + doraId, admin, "{\"role\":\"ROLE_USER\"}").statusCode()).isEqualTo(200);
        await().atMost(PROMPTLY).pollInterval(Duration.ofMillis(20))
               .until(() -> refusedEverywhere(dora) && refusedEverywhere(keyToken));
        // A socket opened with the key's token is closed too (policy violation), not left streaming.
        assertThat(watching.closed).succeedsWithin(PROMPTLY).isEqualTo(1008); // policy violation
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
        await().atMost(PROMPTLY).pollInterval(Duration.ofMillis(20))
               .until(() -> refusedEverywhere(malloryKeyToken));
        assertThat(socket(malloryKeyToken, null, new CopyOnWriteArrayList<>())).failsWithin(Duration.ofSeconds(10))
                .withThrowableOfType(java.util.concurrent.ExecutionException.class).withStackTraceContaining("401");

        // Disabled, then deleted: nothing derived from her works anywhere.
        assertThat(put("gateway", "/api/users/" + doraId, admin, "{\"disabled\":true}").statusCode()).isEqualTo(200);
        await().atMost(PROMPTLY).pollInterval(Duration.ofMillis(20))
               .until(() -> refusedEverywhere(demoted) && refusedEverywhere(narrowed));
        assertThat(put("gateway", "/api/users/" + doraId, admin, "{\"disabled\":false}").statusCode()).isEqualTo(200);
        final String again = login("dora", "dora-password-12");
        assertThat(statusAtEveryService(again).values()).containsOnly(200);
        assertThat(delete("gateway", "/api/users/" + doraId, admin).statusCode()).isEqualTo(200);
        await().atMost(PROMPTLY).pollInterval(Duration.ofMillis(20)).until(() -> refusedEverywhere(again));
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

    @Test
    void anApprovalIsItsRequestersAndItsSecretsAreMaskedEverywhereItIsShown() throws Exception {
        final String secret = "Bearer alices-0wn-s3cret-token-0123456789";
        final List<JsonNode> alicesView = new CopyOnWriteArrayList<>();
        final List<JsonNode> bobsView = new CopyOnWriteArrayList<>();
        final List<JsonNode> adminsView = new CopyOnWriteArrayList<>();
        final List<WebSocket> sockets = List.of(socket(alice, null, alicesView).join(),
                                                socket(bob, null, bobsView).join(),
                                                socket(admin, null, adminsView).join());
        final String fetch = "{\"tool_name\":\"http.fetch\",\"arguments\":{\"url\":\"https://api.example.com/v1/items\","
                             + "\"headers\":{\"Authorization\":\"" + secret + "\",\"Accept\":\"application/json\"}}}";
        final HttpResponse<String> waiting = post("gateway", "/v1/action", alice, fetch);
        assertThat(waiting.statusCode()).as(waiting.body()).isEqualTo(403);
        final JsonNode error = mapper.readTree(waiting.body()).get("error");
        assertThat(error.get("code").asText()).isEqualTo("APPROVAL_REQUIRED");
        assertThat(waiting.body()).doesNotContain("s3cret");
        final String id = error.at("/details/metadata/approval_id").asText();
        await().atMost(Duration.ofSeconds(10)).until(() -> seen(alicesView, id, "APPROVAL_STATE_PENDING")
                                                          && seen(adminsView, id, "APPROVAL_STATE_PENDING"));

        // Shown masked, over the WebSocket and REST, to the requester and to the admin.
        for (List<JsonNode> view : List.of(alicesView, adminsView)) {
            final JsonNode shown = view.stream().filter(e -> e.at("/approval/approval_id").asText().equals(id))
                                       .findFirst().orElseThrow();
            assertThat(shown.at("/approval/arguments/headers/Authorization").asText()).isEqualTo("[REDACTED]");
            assertThat(shown.at("/approval/arguments/headers/Accept").asText()).isEqualTo("application/json");
            assertThat(shown.toString()).doesNotContain("s3cret");
        }
        for (String token : List.of(alice, admin)) {
            final HttpResponse<String> listed = get("evaos", "/v1/approvals", token);
            assertThat(listed.body()).contains(id).contains("[REDACTED]").doesNotContain("s3cret");
        }

        // Bob, of the same tenant, neither sees nor decides it; Alice may not approve her own fetch.
        final String approve = "{\"approve\":true}";
        assertThat(get("evaos", "/v1/approvals/" + id, bob).statusCode()).isEqualTo(404);
        assertThat(get("evaos", "/v1/approvals", bob).body()).doesNotContain(id);
        assertThat(post("evaos", "/v1/approvals/" + id + ":decide", bob, approve).statusCode()).isEqualTo(404);
        final HttpResponse<String> own = post("evaos", "/v1/approvals/" + id + ":decide", alice, approve);
        assertThat(own.statusCode()).as(own.body()).isEqualTo(403);
        assertThat(mapper.readTree(own.body()).at("/error/code").asText()).isEqualTo("PERMISSION_DENIED");
        // The same over gRPC, with the self-registered users' own tokens.
        final io.grpc.ManagedChannel channel = io.grpc.ManagedChannelBuilder
                .forAddress("127.0.0.1", stack.port("evaos")).usePlaintext().build();
        try {
            final var asBob = ai.sonia.evaos.v1.EvaOsServiceGrpc.newBlockingStub(channel)
                                                               .withInterceptors(TestCredentials.bearer(bob));
            final var asAlice = ai.sonia.evaos.v1.EvaOsServiceGrpc.newBlockingStub(channel)
                                                                 .withInterceptors(TestCredentials.bearer(alice));
            final ai.sonia.evaos.v1.DecideApprovalRequest grpcApprove =
                    ai.sonia.evaos.v1.DecideApprovalRequest.newBuilder().setApprovalId(id).setApprove(true).build();
            assertThat(grpcCode(() -> asBob.getApproval(
                    ai.sonia.evaos.v1.GetApprovalRequest.newBuilder().setApprovalId(id).build())))
                    .isEqualTo(io.grpc.Status.Code.NOT_FOUND);
            assertThat(grpcCode(() -> asBob.decideApproval(grpcApprove))).isEqualTo(io.grpc.Status.Code.NOT_FOUND);
            assertThat(grpcCode(() -> asAlice.decideApproval(grpcApprove)))
                    .isEqualTo(io.grpc.Status.Code.PERMISSION_DENIED);
            final ai.sonia.evaos.v1.Approval viaGrpc = asAlice.getApproval(
                    ai.sonia.evaos.v1.GetApprovalRequest.newBuilder().setApprovalId(id).build());
            assertThat(viaGrpc.getArguments().getFieldsOrThrow("headers").getStructValue()
                              .getFieldsOrThrow("Authorization").getStringValue()).isEqualTo("[REDACTED]");
        } finally {
            channel.shutdownNow();
        }
        final HttpResponse<String> decided = post("evaos", "/v1/approvals/" + id + ":decide", admin,
                                                  "{\"approve\":false,\"reason\":\"not this host\"}");
        assertThat(decided.statusCode()).as(decided.body()).isEqualTo(200);
        assertThat(mapper.readTree(decided.body()).at("/data/decided_by").asText()).startsWith("default/");
        assertThat(decided.body()).doesNotContain("s3cret");

        // A pattern grant of Alice's lets her own matching writes run, never Bob's.
        final HttpResponse<String> asked = post("gateway", "/v1/action", alice, write("a.log"));
        final String pattern = mapper.readTree(asked.body()).at("/error/details/metadata/approval_id").asText();
        final HttpResponse<String> granted = post("evaos", "/v1/approvals/" + pattern + ":decide", admin,
                "{\"approve\":true,\"grant_scope\":\"GRANT_SCOPE_PATTERN\","
                + "\"pattern\":\"{\\\"content\\\":\\\"x\\\",\\\"path\\\":\\\"*.log\\\"}\"}");
        assertThat(granted.statusCode()).as(granted.body()).isEqualTo(200);
        final HttpResponse<String> bobs = post("gateway", "/v1/action", bob, write("b.log"));
        assertThat(bobs.statusCode()).as(bobs.body()).isEqualTo(403);
        assertThat(mapper.readTree(bobs.body()).at("/error/code").asText()).isEqualTo("APPROVAL_REQUIRED");
        final HttpResponse<String> alices = post("gateway", "/v1/action", alice, write("c.log"));
        assertThat(alices.statusCode()).as(alices.body()).isEqualTo(200);

        assertThat(bobsView).noneMatch(e -> e.toString().contains(id) || e.toString().contains(pattern));
        for (WebSocket socket : sockets) {
            socket.sendClose(WebSocket.NORMAL_CLOSURE, "done").join();
        }
    }

    @Test
    void onePrincipalHoldsAtMostEightApprovalSockets() throws Exception {
        final List<WebSocket> held = new java.util.ArrayList<>();
        for (int i = 0; i < 8; i++) {
            held.add(socket(carol, null, new CopyOnWriteArrayList<>()).join());
        }
        final java.util.concurrent.CompletableFuture<Integer> closed = new java.util.concurrent.CompletableFuture<>();
        http.newWebSocketBuilder().buildAsync(
                URI.create("ws://127.0.0.1:" + stack.port("gateway") + "/ws/approvals?access_token=" + carol),
                new WebSocket.Listener() {
                    @Override
                    public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
                        closed.complete(statusCode);
                        return null;
                    }
                }).join();
        assertThat(closed.get(10, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo(4029);
        // Another user is not affected, and a socket closed gives its place back.
        final List<JsonNode> bobsView = new CopyOnWriteArrayList<>();
        final WebSocket bobs = socket(bob, null, bobsView).join();
        held.remove(0).sendClose(WebSocket.NORMAL_CLOSURE, "done").join();
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            final java.util.concurrent.CompletableFuture<Integer> again = new java.util.concurrent.CompletableFuture<>();
            final WebSocket retry = http.newWebSocketBuilder().buildAsync(
                    URI.create("ws://127.0.0.1:" + stack.port("gateway") + "/ws/approvals?access_token=" + carol),
                    new WebSocket.Listener() {
                        @Override
                        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
                            again.complete(statusCode);
                            return null;
                        }
                    }).join();
            try {
                again.get(1, java.util.concurrent.TimeUnit.SECONDS);
                return false;
            } catch (java.util.concurrent.TimeoutException stillOpen) {
                held.add(retry);
                return true;
            }
        });
        bobs.sendClose(WebSocket.NORMAL_CLOSURE, "done").join();
        for (WebSocket socket : held) {
            socket.sendClose(WebSocket.NORMAL_CLOSURE, "done").join();
        }
    }

    private static io.grpc.Status.Code grpcCode(Runnable call) {
        try {
            call.run();
            return io.grpc.Status.Code.OK;
        } catch (io.grpc.StatusRuntimeException e) {
            return e.getStatus().getCode();
        }
    }

    private static String write(String path) {
        return "{\"tool_name\":\"file.write\",\"arguments\":{\"path\":\"" + path + "\",\"content\":\"x\"}}";
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
