package ai.sonia.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.client.websocket.WebSocketClient;
import com.linecorp.armeria.client.websocket.WebSocketSession;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.RequestHeaders;
import com.linecorp.armeria.common.websocket.WebSocket;
import com.linecorp.armeria.common.websocket.WebSocketFrame;
import com.linecorp.armeria.common.websocket.WebSocketWriter;

import ai.sonia.gateway.v1.ActionStatus;
import ai.sonia.gateway.v1.ChatRequest;
import ai.sonia.gateway.v1.ChatResponse;
import ai.sonia.gateway.v1.GatewayServiceGrpc;
import ai.sonia.gateway.v1.GetDependenciesRequest;
import ai.sonia.gateway.v1.StreamChatRequest;
import ai.sonia.gateway.v1.StreamChatResponse;
import ai.sonia.gateway.ws.FrameDrain;
import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.Stack;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.client.DownstreamPolicy;
import ai.sonia.runtime.client.SoniaChannels;
import ai.sonia.runtime.edge.OriginPolicy;
import ai.sonia.runtime.testing.Rest;
import ai.sonia.runtime.testing.TestCredentials;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/** The gateway against real loopback servers of its downstreams (scripted by {@link FakeDownstreams}). */
class GatewayTest {

    private static final ObjectMapper mapper = new ObjectMapper();
    private static final List<SoniaServer> downstreams = new ArrayList<>();
    private static final Map<String, String> targets = new java.util.HashMap<>();
    private SoniaServer gateway;
    private ManagedChannel channel;
    private GatewayServiceGrpc.GatewayServiceBlockingStub stub;
    private WebClient rest;
    private String token;
    private StackConfig config;

    @BeforeAll
    static void startDownstreams() {
        start(Stack.MEMORY, new FakeDownstreams.Memory());
        start(Stack.ROUTER, new FakeDownstreams.Router());
        start(Stack.EVAOS, new FakeDownstreams.EvaOs());
        start(Stack.OPENCLAW, new FakeDownstreams.OpenClaw());
        targets.put("SONIA_PIPECAT_TARGET", "127.0.0.1:1"); // nothing there: reported, never called
    }

    private static void start(ai.sonia.runtime.ServiceSpec spec, io.grpc.BindableService service) {
        final SoniaServer server = SoniaServer.builder(spec, GatewayHomes.downstream("fake-" + spec.name(), spec.name()))
                                              .addService(service).build().start();
        downstreams.add(server);
        targets.put("SONIA_" + spec.name().toUpperCase() + "_TARGET", "127.0.0.1:" + server.port());
    }

    @AfterAll
    static void stopDownstreams() {
        downstreams.forEach(SoniaServer::close);
    }

    @BeforeEach
    void startGateway() {
        FakeDownstreams.reset();
        config = GatewayHomes.gateway("gateway", "{}", targets);
        gateway = new GatewayModule().newServer(
                config, new GatewayConfig(new DownstreamPolicy(5, Duration.ofSeconds(1), 64))).start();
        token = TestCredentials.userToken(config, "default", "alice");
        channel = SoniaChannels.forTarget("127.0.0.1:" + gateway.port(), Stack.GATEWAY, TestCredentials.bearer(token));
        stub = GatewayServiceGrpc.newBlockingStub(channel);
        rest = TestCredentials.webClient("http://127.0.0.1:" + gateway.port(), token);
    }

    @AfterEach
    void stopGateway() {
        SoniaChannels.close(channel);
        gateway.close();
    }

    @Test
    void chatAnswersWithProvenance() {
        final ChatResponse response = stub.chat(ChatRequest.newBuilder().setText("What is my cat called?")
                                                           .setSessionId("s1").build());
        assertThat(response.getReply()).isEqualTo("You asked: What is my cat called? (context: 1)");
        assertThat(response.getTurnMemory()).isEqualTo("memories/turn-1");
        final var provenance = response.getProvenance();
        assertThat(provenance.getMemoriesList()).singleElement().satisfies(m -> {
            assertThat(m.getMemory()).isEqualTo("memories/m1");
            assertThat(m.getScore()).isEqualTo(0.83);
            assertThat(m.getSnippet()).contains("Miso");
        });
        assertThat(provenance.getModel()).isEqualTo("echo-1");
        assertThat(provenance.getDeployment()).isEqualTo("fake/echo-1");
        assertThat(provenance.getProvider()).isEqualTo("fake");
        assertThat(provenance.getUsage().getTotalTokens()).isEqualTo(17);
        assertThat(provenance.getUsage().getCostMicros()).isEqualTo(34);
        assertThat(provenance.getCallsList()).extracting(c -> c.getService() + "/" + c.getMethod())
                                             .containsExactly("memory/SearchMemories", "router/Chat", "memory/StoreMemory");
        assertThat(provenance.getCallsList()).allSatisfy(c -> assertThat(c.getErrorCode()).isEmpty());
        assertThat(provenance.getDegradedList()).isEmpty();
    }

    @Test
    void chatOverRestAnswersTheSameInTheEnvelope() throws Exception {
        final JsonNode envelope = postJson("/v1/chat", "{\"text\":\"hello\",\"session_id\":\"s2\"}");
        assertThat(envelope.get("ok").asBoolean()).isTrue();
        assertThat(envelope.at("/data/reply").asText()).startsWith("You asked: hello");
        assertThat(envelope.at("/data/provenance/memories/0/memory").asText()).isEqualTo("memories/m1");
        assertThat(envelope.at("/data/provenance/degraded").size()).isZero();
    }

    @Test
    void theTemperatureReachesTheRouterAndACachedAnswerSaysSoInTheProvenance() throws Exception {
        final JsonNode cached = postJson("/v1/chat", "{\"text\":\"hello\",\"temperature\":0}");
        assertThat(cached.at("/data/provenance/cached").asBoolean()).isTrue();
        final JsonNode fresh = postJson("/v1/chat", "{\"text\":\"hello\"}");
        assertThat(fresh.at("/data/provenance/cached").isBoolean()).isTrue();
        assertThat(fresh.at("/data/provenance/cached").asBoolean()).isFalse();
    }

    @Test
    void theSeedsMessageFieldIsTheTextUnderItsOtherName() throws Exception {
        final JsonNode seed = postJson("/v1/chat", "{\"message\":\"hello from a seed\"}");
        assertThat(seed.at("/data/reply").asText()).isEqualTo("You asked: hello from a seed (context: 1)");

        final AggregatedHttpResponse both = post("/v1/chat", "{\"text\":\"a\",\"message\":\"b\"}");
        assertThat(both.status().code()).isEqualTo(400);
        final JsonNode error = mapper.readTree(both.contentUtf8()).path("error");
        assertThat(error.path("code").asText()).isEqualTo("INVALID_ARGUMENT");
        assertThat(error.path("message").asText()).contains("message").contains("text");
        assertThat(error.at("/details/field_violations/0/field").asText()).isEqualTo("message");
    }

    @Test
    void memoryDownStillAnswersAndSaysItIsDegraded() {
        FakeDownstreams.memoryMode = FakeDownstreams.Mode.UNAVAILABLE;
        final ChatResponse response = stub.chat(ChatRequest.newBuilder().setText("hello").build());
        assertThat(response.getReply()).isEqualTo("You asked: hello (context: 0)");
        assertThat(response.getProvenance().getDegradedList()).containsExactly("memory");
        assertThat(response.getProvenance().getCallsList()).filteredOn(c -> c.getService().equals("memory"))
                                                           .allSatisfy(c -> assertThat(c.getErrorCode()).isEqualTo("UNAVAILABLE"));
    }

    @Test
    void routerDownIsUnavailableWithTheEnvelope503() throws Exception {
        FakeDownstreams.routerMode = FakeDownstreams.Mode.UNAVAILABLE;
        final AggregatedHttpResponse response = post("/v1/chat", "{\"text\":\"hello\"}");
        assertThat(response.status().code()).isEqualTo(503);
        assertThat(mapper.readTree(response.contentUtf8()).at("/error/code").asText()).isEqualTo("UNAVAILABLE");
    }

    @Test
    void badInputNamesTheField() throws Exception {
        for (String body : List.of("{\"text\":\"\"}", "{\"text\":\"   \"}", "{}", "{\"text\":\"x\",\"max_memories\":-1}")) {
            final AggregatedHttpResponse response = post("/v1/chat", body);
            assertThat(response.status().code()).as(body).isEqualTo(400);
            final JsonNode envelope = mapper.readTree(response.contentUtf8());
            assertThat(envelope.at("/error/code").asText()).isEqualTo("INVALID_ARGUMENT");
            assertThat(envelope.at("/error/details/field_violations/0/field").asText()).isIn("text", "max_memories");
        }
        assertThat(FakeDownstreams.count("Chat")).isZero();
    }

    @Test
    void anAllowedActionRunsInOpenClaw() throws Exception {
        final JsonNode envelope = postJson("/v1/action", "{\"tool_name\":\"file.list\",\"arguments\":{\"path\":\".\"}}");
        assertThat(envelope.at("/data/outcome/status").asText()).isEqualTo("ACTION_STATUS_EXECUTED");
        assertThat(envelope.at("/data/outcome/rule").asText()).isEqualTo("low-risk");
        assertThat(envelope.at("/data/outcome/result/output/entries").asText()).isEqualTo("a.txt");
        assertThat(FakeDownstreams.count("ExecuteTool")).isOne();
    }

    @Test
    void aRiskyActionWaitsForApprovalAndNothingRuns() throws Exception {
        final AggregatedHttpResponse response = post("/v1/action", "{\"tool_name\":\"shell.run\",\"arguments\":{\"argv\":[\"ls\"]}}");
        assertThat(response.status().code()).isEqualTo(403);
        final JsonNode envelope = mapper.readTree(response.contentUtf8());
        assertThat(envelope.at("/error/code").asText()).isEqualTo("APPROVAL_REQUIRED");
        assertThat(envelope.at("/error/details/metadata/approval_id").asText()).isEqualTo("ap-1");
        assertThat(FakeDownstreams.count("ExecuteTool")).isZero();
    }

    @Test
    void aDeniedActionIsPolicyDeniedAndAnUnknownToolIsInvalid() throws Exception {
        final AggregatedHttpResponse denied = post("/v1/action", "{\"tool_name\":\"file.delete\",\"arguments\":{\"path\":\"/\"}}");
        assertThat(denied.status().code()).isEqualTo(403);
        assertThat(mapper.readTree(denied.contentUtf8()).at("/error/code").asText()).isEqualTo("POLICY_DENIED");
        final AggregatedHttpResponse unknown = post("/v1/action", "{\"tool_name\":\"rm.everything\"}");
        assertThat(unknown.status().code()).isEqualTo(400);
        assertThat(mapper.readTree(unknown.contentUtf8()).at("/error/details/field_violations/0/field").asText())
                .isEqualTo("tool_name");
        assertThat(FakeDownstreams.count("ExecuteTool")).isZero();
    }

    @Test
    void toolCallsProposedByTheModelGoThroughTheActionPath() {
        final ChatResponse response = stub.chat(ChatRequest.newBuilder().setText("please list files")
                                                           .setEnableTools(true).build());
        assertThat(response.getActionsList()).singleElement().satisfies(a -> {
            assertThat(a.getToolName()).isEqualTo("file.list");
            assertThat(a.getStatus()).isEqualTo(ActionStatus.ACTION_STATUS_EXECUTED);
        });
        assertThat(FakeDownstreams.count("AuthorizeAction")).isOne();
    }

    @Test
    void streamingChatSendsChunksThenTheProvenance() {
        final Iterator<StreamChatResponse> stream = stub.streamChat(StreamChatRequest.newBuilder().setText("hi").build());
        final StringBuilder text = new StringBuilder();
        StreamChatResponse last = null;
        while (stream.hasNext()) {
            last = stream.next();
            if (last.hasChunk()) {
                text.append(last.getChunk());
            }
        }
        assertThat(text).hasToString("Hello, world");
        assertThat(last.hasFinal()).isTrue();
        assertThat(last.getFinal().getReply()).isEqualTo("Hello, world");
        assertThat(last.getFinal().getProvenance().getMemoriesCount()).isOne();
        assertThat(last.getFinal().getProvenance().getCallsList()).extracting(c -> c.getMethod())
                                                                  .contains("SearchMemories", "StreamChat", "StoreMemory");
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"/v1/chat:stream", "/v1/conversation/stream"})
    void streamingOverRestIsServerSentEvents(String path) {
        final AggregatedHttpResponse response = post(path, "{\"text\":\"hi\"}");
        assertThat(response.status().code()).isEqualTo(200);
        assertThat(response.contentType().toString()).startsWith("text/event-stream");
        final String body = response.contentUtf8();
        assertThat(body).contains("data: {\"chunk\":\"Hello\"}", "data: {\"chunk\":\", \"}", "data: {\"final\":",
                                  "\"reply\":\"Hello, world\"");
        assertThat(body.strip()).endsWith("data: {\"done\":true}");
        final AggregatedHttpResponse bad = post(path, "{\"text\":\"\"}");
        assertThat(bad.status().code()).isEqualTo(400);
    }

    @Test
    void aClientThatCancelsTheStreamCancelsTheRouter() throws Exception {
        FakeDownstreams.routerMode = FakeDownstreams.Mode.SLOW;
        final Context.CancellableContext context = Context.current().withCancellation();
        final Iterator<StreamChatResponse> stream =
                context.call(() -> stub.streamChat(StreamChatRequest.newBuilder().setText("hi").build()));
        assertThat(stream.next().getChunk()).isEqualTo("Hello");
        context.cancel(null);
        assertThat(FakeDownstreams.routerCancelled.await(10, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void anSseClientThatGoesAwayCancelsTheRouter() throws Exception {
        FakeDownstreams.routerMode = FakeDownstreams.Mode.SLOW;
        final var response = rest.execute(RequestHeaders.of(HttpMethod.POST, "/v1/chat:stream",
                                                             "content-type", MediaType.JSON_UTF_8), "{\"text\":\"hi\"}");
        final var subscriber = new java.util.concurrent.CompletableFuture<Void>();
        response.subscribe(new org.reactivestreams.Subscriber<>() {
            private org.reactivestreams.Subscription subscription;

            @Override
            public void onSubscribe(org.reactivestreams.Subscription s) {
                subscription = s;
                s.request(3); // headers and the first events, then walk away
            }

            @Override
            public void onNext(com.linecorp.armeria.common.HttpObject o) {
                if (o instanceof com.linecorp.armeria.common.HttpData data && data.toStringUtf8().contains("Hello")) {
                    subscription.cancel();
                    subscriber.complete(null);
                }
            }

            @Override
            public void onError(Throwable t) {}

            @Override
            public void onComplete() {}
        });
        subscriber.get(10, TimeUnit.SECONDS);
        assertThat(FakeDownstreams.routerCancelled.await(10, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void aStreamWhoseUserIsDisabledEndsWithUnauthenticated() throws Exception {
        FakeDownstreams.routerMode = FakeDownstreams.Mode.SLOW;
        final String carol = TestCredentials.userToken(config, "default", "carol");
        final Iterator<StreamChatResponse> stream =
                stub.withInterceptors(TestCredentials.bearer(carol))
                    .streamChat(StreamChatRequest.newBuilder().setText("hi").build());
        assertThat(stream.next().getChunk()).isEqualTo("Hello");
        disable("carol");
        assertThatThrownBy(() -> stream.forEachRemaining(chunk -> {}))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
                    assertThat(e.getStatus().getDescription()).startsWith("credential revoked");
                });
        assertThat(FakeDownstreams.routerCancelled.await(10, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void anSseStreamWhoseUserIsDisabledEndsWithAnError() throws Exception {
        FakeDownstreams.routerMode = FakeDownstreams.Mode.SLOW;
        final String dave = TestCredentials.userToken(config, "default", "dave");
        final var response = TestCredentials.webClient("http://127.0.0.1:" + gateway.port(), dave).execute(
                RequestHeaders.of(HttpMethod.POST, "/v1/chat:stream", "content-type", MediaType.JSON_UTF_8),
                "{\"text\":\"hi\"}").aggregate();
        await().atMost(Duration.ofSeconds(10)).until(() -> FakeDownstreams.count("StreamChat") > 0);
        disable("dave");
        final AggregatedHttpResponse ended = response.get(10, TimeUnit.SECONDS);
        assertThat(ended.contentUtf8()).contains("Hello").contains("\"code\":\"UNAUTHENTICATED\"")
                                       .contains("credential revoked").doesNotContain("\"done\":true");
        assertThat(FakeDownstreams.routerCancelled.await(10, TimeUnit.SECONDS)).isTrue();
    }

    /** What the gateway's accounts write when an admin disables {@code user}: every service then refuses it. */
    private void disable(String user) {
        final long now = System.currentTimeMillis();
        ai.sonia.runtime.auth.RevocationList.of(config).changeUser("default", user, null, now, now + 3_600_000L);
    }

    @Test
    void aSlowRouterEndsWithTimeoutAtTheCallersDeadline() throws Exception {
        FakeDownstreams.routerMode = FakeDownstreams.Mode.SLOW;
        final long start = System.nanoTime();
        assertThatThrownBy(() -> stub.withDeadlineAfter(1, TimeUnit.SECONDS)
                                     .chat(ChatRequest.newBuilder().setText("hi").build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED));
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
        // The deadline travelled downstream: the router's call was cancelled, not left running.
        assertThat(FakeDownstreams.routerCancelled.await(5, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void retriesHappenOnlyForIdempotentMethods() {
        FakeDownstreams.memoryFailuresBeforeSuccess = 1; // SearchMemories is idempotent: retried
        final ChatResponse response = stub.chat(ChatRequest.newBuilder().setText("hello").build());
        assertThat(response.getProvenance().getDegradedList()).isEmpty();
        assertThat(FakeDownstreams.count("SearchMemories")).isEqualTo(2);

        FakeDownstreams.routerMode = FakeDownstreams.Mode.UNAVAILABLE; // Chat is not: one attempt
        assertThatThrownBy(() -> stub.chat(ChatRequest.newBuilder().setText("hello").build()))
                .isInstanceOf(StatusRuntimeException.class);
        assertThat(FakeDownstreams.count("Chat")).isEqualTo(2); // the first, successful chat and this one
    }

    @Test
    void theBreakerOpensAfterFiveFailuresFailsFastAndClosesWhenTheDependencyReturns() throws Exception {
        FakeDownstreams.memoryMode = FakeDownstreams.Mode.UNAVAILABLE;
        for (int i = 0; i < 3; i++) { // each chat: a failed search (after retries) and a failed store
            stub.chat(ChatRequest.newBuilder().setText("hello").build());
        }
        assertThat(circuitOf("memory")).isEqualTo("OPEN");
        final int before = FakeDownstreams.count("SearchMemories") + FakeDownstreams.count("StoreMemory");
        final ChatResponse failingFast = stub.chat(ChatRequest.newBuilder().setText("hello").build());
        assertThat(failingFast.getProvenance().getDegradedList()).containsExactly("memory");
        assertThat(FakeDownstreams.count("SearchMemories") + FakeDownstreams.count("StoreMemory")).isEqualTo(before);

        FakeDownstreams.memoryMode = FakeDownstreams.Mode.OK;
        await().atMost(Duration.ofSeconds(5)).until(() -> "HALF_OPEN".equals(circuitOf("memory")));
        final ChatResponse recovered = stub.chat(ChatRequest.newBuilder().setText("hello").build());
        assertThat(recovered.getProvenance().getDegradedList()).isEmpty();
        assertThat(circuitOf("memory")).isEqualTo("CLOSED");
    }

    @Test
    void depsReportEveryDependencyWithItsCircuitState() throws Exception {
        final var deps = stub.getDependencies(GetDependenciesRequest.getDefaultInstance());
        assertThat(deps.getDependenciesList()).extracting(d -> d.getName())
                                              .containsExactly("router", "memory", "pipecat", "openclaw", "evaos");
        assertThat(deps.getDependenciesList()).filteredOn(d -> !d.getName().equals("pipecat"))
                                              .allSatisfy(d -> {
                                                  assertThat(d.getOk()).isTrue();
                                                  assertThat(d.getCircuitState()).isEqualTo("CLOSED");
                                              });
        assertThat(deps.getAllOk()).isFalse(); // pipecat is not running in this test
        final String metrics = rest.get("/metrics").aggregate().join().contentUtf8();
        assertThat(metrics).contains("sonia_downstream_circuit_state{service=\"memory\"} 0.0");
    }

    @Test
    void theApprovalsSocketNeedsATokenAndAnAllowedOriginAndWatchesAsItsPrincipal() throws Exception {
        final WebSocketClient sockets = WebSocketClient.of("ws://127.0.0.1:" + gateway.port());
        assertThatThrownBy(() -> sockets.connect("/ws/approvals").join()).hasMessageContaining("401");
        assertThatThrownBy(() -> sockets.connect("/ws/approvals?access_token=forged").join()).hasMessageContaining("401");
        final WebSocketClient evil = WebSocketClient.builder("ws://127.0.0.1:" + gateway.port())
                                                    .addHeader("origin", "https://evil.example").build();
        assertThatThrownBy(() -> evil.connect("/ws/approvals?access_token=" + token).join()).hasMessageContaining("403");

        final java.util.concurrent.CompletableFuture<String> first = new java.util.concurrent.CompletableFuture<>();
        final WebSocketWriter out = approvalSocket(sockets, token, first);
        assertThat(first.get(10, TimeUnit.SECONDS)).contains("\"requested_by\":\"default/alice\"");
        out.close();
    }

    @Test
    void onePrincipalHoldsAtMostEightApprovalSocketsAndTheNextClosesWith4029() throws Exception {
        final WebSocketClient sockets = WebSocketClient.of("ws://127.0.0.1:" + gateway.port());
        final List<WebSocketWriter> held = new ArrayList<>();
        try {
            for (int i = 0; i < GatewayConfig.DEFAULT_APPROVAL_STREAMS; i++) {
                final java.util.concurrent.CompletableFuture<String> first = new java.util.concurrent.CompletableFuture<>();
                held.add(approvalSocket(sockets, token, first));
                assertThat(first.get(10, TimeUnit.SECONDS)).contains("default/alice");
            }
            final java.util.concurrent.CompletableFuture<String> refused = new java.util.concurrent.CompletableFuture<>();
            held.add(approvalSocket(sockets, token, refused));
            assertThat(refused.get(10, TimeUnit.SECONDS)).startsWith("close 4029").contains("at most 8");
            // Another principal is not affected.
            final java.util.concurrent.CompletableFuture<String> bobs = new java.util.concurrent.CompletableFuture<>();
            held.add(approvalSocket(sockets, TestCredentials.userToken(config, "default", "bob"), bobs));
            assertThat(bobs.get(10, TimeUnit.SECONDS)).contains("default/bob");
            // A socket closed gives its place back.
            held.remove(0).close();
            await().atMost(Duration.ofSeconds(10)).until(() -> {
                final java.util.concurrent.CompletableFuture<String> again = new java.util.concurrent.CompletableFuture<>();
                held.add(approvalSocket(sockets, token, again));
                return !again.get(10, TimeUnit.SECONDS).startsWith("close");
            });
        } finally {
            held.forEach(WebSocketWriter::close);
        }
    }

    @Test
    void theApprovalsSocketAnswersPingsAndDropsAClientThatNeverAnswersOne() throws Exception {
        final SoniaServer pinging = new GatewayModule().newServer(config, new GatewayConfig(
                new DownstreamPolicy(5, Duration.ofSeconds(1), 64), OriginPolicy.LOCAL_ORIGINS,
                GatewayConfig.DEFAULT_APPROVAL_STREAMS, Duration.ofMillis(300))).start();
        try {
            final WebSocketSession session = WebSocketClient.of("ws://127.0.0.1:" + pinging.port())
                                                            .connect("/ws/approvals?access_token=" + token).join();
            final List<String> frames = new java.util.concurrent.CopyOnWriteArrayList<>();
            final WebSocketWriter out = connected(session, frames::add, () -> {});
            out.write(WebSocketFrame.ofPing("are you there".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            await().atMost(Duration.ofSeconds(10)).until(() -> frames.contains("PONG are you there"));
            // Then silence: the server pings, and drops the client that does not answer.
            await().atMost(Duration.ofSeconds(10)).until(() -> frames.stream().anyMatch(f -> f.startsWith("PING")));
            await().atMost(Duration.ofSeconds(10)).until(() -> frames.contains("close 1001 no answer to ping"));
        } finally {
            pinging.close();
        }
    }

    /** Opens /ws/approvals; {@code first} gets the first text frame, or "close CODE REASON". */
    private static WebSocketWriter approvalSocket(WebSocketClient sockets, String token,
                                                  java.util.concurrent.CompletableFuture<String> first) {
        final WebSocketSession session = sockets.connect("/ws/approvals?access_token=" + token).join();
        return connected(session, first::complete, () -> first.complete("close"));
    }

    /**
     * Reads a socket's frames as text ("TEXT ..." frames as their text, "close CODE REASON", "PING ...",
     * "PONG ...") into {@code frames}; returns its writer.
     */
    private static WebSocketWriter connected(WebSocketSession session, java.util.function.Consumer<String> frames,
                                             Runnable onEnd) {
        session.inbound().subscribe(new FrameDrain(frame -> {
            if (frame instanceof com.linecorp.armeria.common.websocket.CloseWebSocketFrame close) {
                frames.accept("close " + close.status().code() + ' ' + close.reasonPhrase());
            } else if (frame.type() == com.linecorp.armeria.common.websocket.WebSocketFrameType.TEXT) {
                frames.accept(frame.text());
            } else {
                frames.accept(frame.type() + " " + frame.text());
            }
        }, onEnd));
        final WebSocketWriter out = WebSocket.streaming();
        session.setOutbound(out);
        return out;
    }

    private String circuitOf(String service) {
        return stub.getDependencies(GetDependenciesRequest.getDefaultInstance()).getDependenciesList().stream()
                   .filter(d -> d.getName().equals(service)).findFirst().orElseThrow().getCircuitState();
    }

    private AggregatedHttpResponse post(String path, String json) {
        return Rest.postJson(rest, path, json);
    }

    private JsonNode postJson(String path, String json) throws Exception {
        final AggregatedHttpResponse response = post(path, json);
        assertThat(response.status().code()).as(response.contentUtf8()).isEqualTo(200);
        return mapper.readTree(response.contentUtf8());
    }

}
