package ai.sonia.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
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
import ai.sonia.runtime.Stack;
import ai.sonia.runtime.client.SoniaChannels;
import ai.sonia.runtime.testing.TestCredentials;
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
                                .setArguments(Struct.newBuilder().putFields("path", Value.newBuilder().setStringValue(".").build()))
                                .build();

    private InProcessStack stack;
    private ManagedChannel channel;

    @BeforeEach
    void startStack() {
        // A short cool-off so the test sees the breaker half-open and close again.
        // The load is one client far over the gateway's default rate limit: lift it, this run is about faults.
        stack = new InProcessStack("faults", "{\"services\":{\"gateway\":{\"circuit\":{\"openSeconds\":1},"
                                             + "\"rateLimits\":{\"perPrincipal\":{\"requests\":1000000,\"perSeconds\":1},"
                                             + "\"perIp\":{\"requests\":1000000,\"perSeconds\":1}}}}}");
        channel = SoniaChannels.forTarget("127.0.0.1:" + stack.port("gateway"), Stack.GATEWAY,
                                          TestCredentials.bearer(TestCredentials.adminToken(stack.config())));
    }

    @AfterEach
    void stopStack() {
        SoniaChannels.close(channel);
        stack.close();
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
            stack.stop(service);
            Thread.sleep(2500);
            stack.start(service);
            // The gateway recovers by itself: once the breaker half-opens, everything works again.
            await().atMost(Duration.ofSeconds(20)).ignoreExceptions()
                   .until(() -> !degraded(chat()) && action().getOutcome().getStatus() == ai.sonia.gateway.v1.ActionStatus.ACTION_STATUS_EXECUTED);
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
