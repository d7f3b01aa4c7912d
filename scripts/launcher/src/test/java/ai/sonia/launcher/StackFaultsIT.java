package ai.sonia.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;

import ai.sonia.gateway.v1.ChatRequest;
import ai.sonia.gateway.v1.ChatResponse;
import ai.sonia.gateway.v1.ExecuteActionRequest;
import ai.sonia.gateway.v1.ExecuteActionResponse;
import ai.sonia.gateway.v1.GatewayServiceGrpc;
import ai.sonia.runtime.ServiceModule;
import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.Stack;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.client.SoniaChannels;
import ai.sonia.runtime.testing.TestHomes;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;

/**
 * The real stack (all six modules, in this JVM, on free ports) under a steady chat load while a
 * dependency is killed and brought back: no request hangs past its deadline, the error codes are the
 * right ones, and the gateway recovers by itself.
 */
class StackFaultsIT {

    private static final Duration DEADLINE = Duration.ofSeconds(5);
    private static final ExecuteActionRequest LIST_FILES =
            ExecuteActionRequest.newBuilder().setToolName("file.list")
                                .setArgs(Struct.newBuilder().putFields("path", Value.newBuilder().setStringValue(".").build()))
                                .build();

    private final Map<String, SoniaServer> servers = new ConcurrentHashMap<>();
    private StackConfig config;
    private ManagedChannel channel;

    @BeforeEach
    void startStack() throws IOException {
        final Path home = TestHomes.create("faults");
        Files.createDirectories(home.resolve("config"));
        // A short cool-off so the test sees the breaker half-open and close again.
        Files.writeString(home.resolve("config/sonia.json"),
                          "{\"services\":{\"gateway\":{\"circuit\":{\"openSeconds\":1}}}}");
        final Map<String, Integer> ports = new HashMap<>();
        for (var spec : Stack.SERVICES) {
            ports.put(spec.name(), freePort());
        }
        config = StackConfig.load(Map.of("SONIA_HOME", home.toString(), "OLLAMA_BASE_URL", "http://127.0.0.1:1"))
                            .withPorts(ports);
        for (ServiceModule module : StackMain.modules().values()) {
            start(module.spec().name());
        }
        channel = SoniaChannels.forTarget("127.0.0.1:" + ports.get("gateway"), Stack.GATEWAY);
    }

    @AfterEach
    void stopStack() {
        SoniaChannels.close(channel);
        servers.values().parallelStream().forEach(SoniaServer::close);
    }

    /**
     * Killed mid-load and restarted on its port: memory degrades chats (never fails them); the router fails
     * chats with UNAVAILABLE; EVA-OS and OpenClaw fail actions with UNAVAILABLE and leave chats alone.
     */
    @ParameterizedTest
    @CsvSource({ // a call in flight on the dying server may also end at its deadline: TIMEOUT, not a hang
            "memory,   OK,                                  OK",
            "router,   OK|UNAVAILABLE|DEADLINE_EXCEEDED,    OK",
            "evaos,    OK,                                  OK|UNAVAILABLE|DEADLINE_EXCEEDED",
            "openclaw, OK,                                  OK|UNAVAILABLE|DEADLINE_EXCEEDED",
    })
    void aDependencyKilledMidLoadGivesTheRightCodesNoHangsAndRecovers(String service, String chatCodes,
                                                                      String actionCodes) throws Exception {
        final LoadRun load = new LoadRun(channel);
        load.start();
        try {
            Thread.sleep(1500);
            servers.remove(service).close();
            Thread.sleep(2500);
            start(service);
            // The gateway recovers by itself: once the breaker half-opens, everything works again.
            await().atMost(Duration.ofSeconds(20)).ignoreExceptions()
                   .until(() -> !degraded(chat()) && action().getOutcome().getStatus().equals("EXECUTED"));
        } finally {
            load.stop();
        }
        assertThat(load.hung.get()).as("requests past their deadline").isZero();
        assertThat(load.chatCodes.keySet()).as("chat outcomes").contains("OK")
                                           .isSubsetOf(List.of(chatCodes.split("\\|")));
        assertThat(load.actionCodes.keySet()).as("action outcomes").contains("OK")
                                             .isSubsetOf(List.of(actionCodes.split("\\|")));
        if (service.equals("memory")) {
            assertThat(load.degraded.get()).as("chats answered without memory").isPositive();
        }
    }

    private ExecuteActionResponse action() {
        return GatewayServiceGrpc.newBlockingStub(channel).withDeadlineAfter(DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                                 .executeAction(LIST_FILES);
    }

    private ChatResponse chat() {
        return GatewayServiceGrpc.newBlockingStub(channel).withDeadlineAfter(DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                                 .chat(ChatRequest.newBuilder().setText("What is my cat called?").build());
    }

    private static boolean degraded(ChatResponse response) {
        return response.getProvenance().getDegradedCount() > 0;
    }

    private void start(String service) {
        final ServiceModule module = StackMain.modules().get(service);
        try {
            servers.put(service, module.newServer(config).start());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    /** Four clients chatting and acting back to back, recording each outcome and any call that outlived its deadline. */
    private static final class LoadRun {
        final Map<String, Integer> chatCodes = new ConcurrentHashMap<>();
        final Map<String, Integer> actionCodes = new ConcurrentHashMap<>();
        final AtomicInteger degraded = new AtomicInteger();
        final AtomicInteger hung = new AtomicInteger();
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final ExecutorService clients = Executors.newFixedThreadPool(4);
        private final GatewayServiceGrpc.GatewayServiceBlockingStub stub;

        LoadRun(ManagedChannel channel) {
            stub = GatewayServiceGrpc.newBlockingStub(channel);
        }

        void start() {
            for (int i = 0; i < 4; i++) {
                final boolean chats = i % 2 == 0;
                clients.execute(() -> {
                    while (running.get()) {
                        final long start = System.nanoTime();
                        String code;
                        try {
                            final var timed = stub.withDeadlineAfter(DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
                            if (chats) {
                                if (degraded(timed.chat(ChatRequest.newBuilder().setText("hello").build()))) {
                                    degraded.incrementAndGet();
                                }
                            } else {
                                timed.executeAction(LIST_FILES);
                            }
                            code = "OK";
                        } catch (StatusRuntimeException e) {
                            code = e.getStatus().getCode().name();
                        }
                        if (Duration.ofNanos(System.nanoTime() - start).compareTo(DEADLINE.plusSeconds(1)) > 0) {
                            hung.incrementAndGet();
                        }
                        (chats ? chatCodes : actionCodes).merge(code, 1, Integer::sum);
                    }
                });
            }
        }

        void stop() throws InterruptedException {
            running.set(false);
            clients.shutdown();
            assertThat(clients.awaitTermination(DEADLINE.toSeconds() + 5, TimeUnit.SECONDS)).isTrue();
        }
    }

}
