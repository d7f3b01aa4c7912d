package ai.sonia.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import ai.sonia.common.v1.DependencyStatus;
import ai.sonia.gateway.v1.ChatRequest;
import ai.sonia.gateway.v1.ChatResponse;
import ai.sonia.gateway.v1.ExecuteActionRequest;
import ai.sonia.gateway.v1.GatewayServiceGrpc;
import ai.sonia.gateway.v1.GetDependenciesRequest;
import ai.sonia.gateway.v1.StreamChatRequest;
import ai.sonia.gateway.v1.StreamChatResponse;
import ai.sonia.runtime.Errors;
import ai.sonia.runtime.ServiceSpec;
import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.Stack;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.client.DownstreamPolicy;
import ai.sonia.runtime.client.SoniaChannels;
import ai.sonia.runtime.testing.TestCredentials;
import io.grpc.BindableService;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;

/**
 * One user's trouble stays theirs: short deadlines and a tenant's tool-timeout storm open no circuit and
 * take nothing from other tenants; an open circuit shows as degraded; and chats work again within a
 * couple of seconds of a restarted router or memory. Real loopback servers, each restartable on its port.
 */
class GatewayResilienceTest {

    private static final ObjectMapper mapper = new ObjectMapper();
    /** What the tests measured, as markdown rows: written to target/resilience.md for the benchmark page. */
    private static final Map<String, String> report = new java.util.concurrent.ConcurrentSkipListMap<>();
    private static final int RESTARTS = 3;
    private final Map<String, SoniaServer> servers = new HashMap<>();
    private final Map<String, StackConfig> homes = new HashMap<>();
    private final Map<String, BindableService> fakes = Map.of(
            "memory", new FakeDownstreams.Memory(), "router", new FakeDownstreams.Router(),
            "evaos", new FakeDownstreams.EvaOs(), "openclaw", new FakeDownstreams.OpenClaw());
    private final List<ManagedChannel> channels = new ArrayList<>();
    private StackConfig config;
    private SoniaServer gateway;

    @BeforeEach
    void start() {
        FakeDownstreams.reset();
        final Map<String, String> targets = new HashMap<>();
        for (ServiceSpec spec : List.of(Stack.MEMORY, Stack.ROUTER, Stack.EVAOS, Stack.OPENCLAW)) {
            final StackConfig any = GatewayHomes.downstream("resilience-" + spec.name(), spec.name());
            final SoniaServer server = serve(spec, any);
            homes.put(spec.name(), any.withPorts(Map.of(spec.name(), server.port())));
            targets.put("SONIA_" + spec.name().toUpperCase() + "_TARGET", "127.0.0.1:" + server.port());
        }
        targets.put("SONIA_PIPECAT_TARGET", "127.0.0.1:1");
        // The gateway's own request limits are not under test here: far above what the tests send.
        config = GatewayHomes.gateway("resilience", "{\"rateLimits\":{\"perPrincipal\":{\"requests\":1000000,"
                                                    + "\"perSeconds\":1},\"perIp\":{\"requests\":1000000,\"perSeconds\":1}}}",
                                      targets);
        // 16 calls in flight to each downstream, 4 of them for one tenant; the default 5 s open duration.
        gateway = new GatewayModule().newServer(
                config, new GatewayConfig(new DownstreamPolicy(5, Duration.ofSeconds(5), 16, 4))).start();
    }

    private SoniaServer serve(ServiceSpec spec, StackConfig on) {
        final SoniaServer server = SoniaServer.builder(spec, on).addService(fakes.get(spec.name())).build().start();
        servers.put(spec.name(), server);
        return server;
    }

    @org.junit.jupiter.api.AfterAll
    static void writeReport() throws java.io.IOException {
        final StringBuilder md = new StringBuilder();
        md.append("| scenario | measured |\n|---|---|\n");
        report.forEach((scenario, measured) -> md.append("| ").append(scenario).append(" | ").append(measured).append(" |\n"));
        java.nio.file.Files.writeString(java.nio.file.Path.of("target", "resilience.md"), md);
        System.out.print(md);
    }

    @AfterEach
    void stop() {
        channels.forEach(SoniaChannels::close);
        gateway.close();
        servers.values().forEach(SoniaServer::close);
    }

    private final Map<String, GatewayServiceGrpc.GatewayServiceBlockingStub> stubs = new HashMap<>();

    /** A stub of the gateway for a user of a tenant (one channel each, closed after the test). */
    private synchronized GatewayServiceGrpc.GatewayServiceBlockingStub as(String tenant, String user) {
        return stubs.computeIfAbsent(tenant + '/' + user, unused -> {
            final ManagedChannel channel = SoniaChannels.forTarget(
                    "127.0.0.1:" + gateway.port(), Stack.GATEWAY,
                    TestCredentials.bearer(TestCredentials.userToken(config, tenant, user)));
            channels.add(channel);
            return GatewayServiceGrpc.newBlockingStub(channel);
        });
    }

    private static ChatRequest chat(String text) {
        return ChatRequest.newBuilder().setText(text).build();
    }

    private DependencyStatus dep(String name) {
        return as("ops", "op").getDependencies(GetDependenciesRequest.getDefaultInstance()).getDependenciesList()
                              .stream().filter(d -> d.getName().equals(name)).findFirst().orElseThrow();
    }

    @Test
    void callersShortDeadlinesNeverOpenTheRouterCircuitAndAnotherUsersChatSucceeds() {
        FakeDownstreams.routerMode = FakeDownstreams.Mode.SLOW;
        final var hasty = as("acme", "hasty");
        final Map<String, Integer> outcomes = new TreeMap<>();
        for (int i = 0; i < 20; i++) {
            try {
                final Iterator<StreamChatResponse> stream =
                        hasty.withDeadlineAfter(50, TimeUnit.MILLISECONDS).streamChat(StreamChatRequest.newBuilder().setText("hi").build());
                stream.forEachRemaining(unused -> { });
                outcomes.merge("OK", 1, Integer::sum);
            } catch (StatusRuntimeException e) {
                outcomes.merge(e.getStatus().getCode().name(), 1, Integer::sum);
            }
            try {
                hasty.withDeadlineAfter(50, TimeUnit.MILLISECONDS).chat(chat("hi"));
            } catch (StatusRuntimeException e) {
                outcomes.merge("chat " + e.getStatus().getCode().name(), 1, Integer::sum);
            }
        }
        report.put("20 StreamChat + 20 Chat with a 50 ms deadline against a router that never answers",
                   outcomes + "; router circuit " + dep("router").getCircuitState());
        assertThat(outcomes).containsOnlyKeys("DEADLINE_EXCEEDED", "chat DEADLINE_EXCEEDED");
        assertThat(dep("router").getCircuitState()).isEqualTo("CLOSED");
        assertThat(dep("memory").getCircuitState()).isEqualTo("CLOSED");

        FakeDownstreams.routerMode = FakeDownstreams.Mode.OK;
        final ChatResponse answer = as("globex", "patient").chat(chat("hello"));
        assertThat(answer.getReply()).startsWith("You asked: hello");
        assertThat(answer.getProvenance().getDegradedList()).isEmpty();
    }

    @Test
    void aTenantsToolTimeoutStormLeavesOtherTenantsToolsAllWorking() throws Exception {
        FakeDownstreams.toolTimeoutTenants.add("acme");
        final var storm = as("acme", "mallory");
        final var other = as("globex", "alice");
        final ExecuteActionRequest tool = ExecuteActionRequest.newBuilder().setToolName("calc.eval").build();
        final ExecutorService pool = Executors.newFixedThreadPool(24);
        final Map<String, Integer> stormOutcomes = new TreeMap<>();
        final Map<String, Integer> otherOutcomes = new TreeMap<>();
        try {
            // 20 at a time for ~4 s from one tenant: more than the whole downstream's 16 places.
            final List<CompletableFuture<Void>> stormCalls = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                stormCalls.add(CompletableFuture.runAsync(() -> {
                    final long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(4);
                    while (System.nanoTime() < end) {
                        tally(stormOutcomes, () -> storm.executeAction(tool).getOutcome().getStatus().name());
                    }
                }, pool));
            }
            final long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(4);
            while (System.nanoTime() < end) {
                tally(otherOutcomes, () -> other.executeAction(tool).getOutcome().getStatus().name());
                Thread.sleep(50);
            }
            CompletableFuture.allOf(stormCalls.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
        } finally {
            pool.shutdownNow();
        }
        report.put("tool-timeout storm: tenant A, 20 at a time for 4 s, each tool 1 s then TIMEOUT (16 places, 4 a tenant)",
                   "A " + stormOutcomes + "; other tenant " + otherOutcomes + "; openclaw circuit "
                   + dep("openclaw").getCircuitState());
        assertThat(otherOutcomes).containsOnlyKeys("ACTION_STATUS_EXECUTED");
        assertThat(stormOutcomes).containsKeys("TIMEOUT", "RATE_LIMITED").containsOnlyKeys("TIMEOUT", "RATE_LIMITED");
        assertThat(dep("openclaw").getCircuitState()).isEqualTo("CLOSED");
    }

    private static void tally(Map<String, Integer> outcomes, java.util.function.Supplier<String> call) {
        String outcome;
        try {
            outcome = call.get();
        } catch (StatusRuntimeException e) {
            outcome = Errors.envelopeCode(e);
        }
        synchronized (outcomes) {
            outcomes.merge(outcome, 1, Integer::sum);
        }
    }

    @Test
    void depsAndStatusSayDegradedWhileACircuitIsOpen() throws Exception {
        final var user = as("acme", "alice");
        assertThat(dep("memory").getOk()).isTrue();
        FakeDownstreams.memoryMode = FakeDownstreams.Mode.UNAVAILABLE;
        for (int i = 0; i < 3; i++) { // each chat: a failed search (after retries) and a failed store
            user.chat(chat("hello"));
        }
        final DependencyStatus memory = dep("memory");
        assertThat(memory.getCircuitState()).isEqualTo("OPEN");
        assertThat(memory.getOk()).isFalse();
        assertThat(memory.getDegraded()).isTrue();
        assertThat(memory.getError()).contains("circuit OPEN");
        assertThat(as("ops", "op").getDependencies(GetDependenciesRequest.getDefaultInstance()).getAllOk()).isFalse();

        final JsonNode status = mapper.readTree(TestCredentials.webClient("http://127.0.0.1:" + gateway.port(),
                                                                          TestCredentials.userToken(config, "ops", "op"))
                                                               .get("/status").aggregate().join().contentUtf8());
        final JsonNode memoryStatus = java.util.stream.StreamSupport.stream(status.at("/data/dependencies").spliterator(), false)
                                                                    .filter(d -> d.get("name").asText().equals("memory"))
                                                                    .findFirst().orElseThrow();
        assertThat(memoryStatus.get("ok").asBoolean()).isFalse();
        assertThat(memoryStatus.get("degraded").asBoolean()).isTrue();
        assertThat(memoryStatus.get("circuit_state").asText()).isEqualTo("OPEN");

        FakeDownstreams.memoryMode = FakeDownstreams.Mode.OK;
        await().atMost(Duration.ofSeconds(15)).until(() -> {
            user.chat(chat("hello"));
            return dep("memory").getOk();
        });
        assertThat(dep("memory").getDegraded()).isFalse();
    }

    @Test
    void chatsWorkAgainWithinSecondsOfARestartedRouter() {
        final List<Long> recoveries = new ArrayList<>();
        for (int i = 0; i < RESTARTS; i++) {
            recoveries.add(restartAndMeasure("router", Stack.ROUTER, () -> {
                try {
                    return as("acme", "alice").chat(chat("hello")).getReply().startsWith("You asked");
                } catch (StatusRuntimeException e) {
                    return false;
                }
            }));
        }
        report.put("router killed until its circuit opened, down 4 s, restarted on its port: ms until the first chat answers",
                   recoveries + " (5 s open duration)");
        assertThat(recoveries).allSatisfy(ms -> assertThat(ms).isLessThan(10_000));
    }

    @Test
    void chatsUseMemoryAgainWithinSecondsOfARestartedMemory() {
        final List<Long> recoveries = new ArrayList<>();
        for (int i = 0; i < RESTARTS; i++) {
            recoveries.add(restartAndMeasure("memory", Stack.MEMORY,
                                             () -> as("acme", "alice").chat(chat("hello")).getProvenance()
                                                                    .getDegradedList().isEmpty()));
        }
        report.put("memory killed until its circuit opened, down 4 s, restarted on its port: ms until a chat is no longer degraded",
                   recoveries + " (5 s open duration)");
        assertThat(recoveries).allSatisfy(ms -> assertThat(ms).isLessThan(10_000));
    }

    /** Stops a downstream until its circuit is open, keeps it down 4 s, restarts it on its port: ms to success. */
    private long restartAndMeasure(String name, ServiceSpec spec, java.util.concurrent.Callable<Boolean> chatWorks) {
        await().atMost(Duration.ofSeconds(10)).until(chatWorks);
        servers.remove(name).close();
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50)).until(() -> {
            chatWorks.call();
            return "OPEN".equals(dep(name).getCircuitState());
        });
        try {
            Thread.sleep(4_000); // down long enough for grpc-java's reconnect backoff to grow
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        serve(spec, homes.get(name));
        final long back = System.nanoTime();
        await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(20)).until(chatWorks);
        return (System.nanoTime() - back) / 1_000_000;
    }
}
