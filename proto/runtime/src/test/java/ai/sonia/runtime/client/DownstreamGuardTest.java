package ai.sonia.runtime.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.google.common.util.concurrent.ListenableFuture;

import ai.sonia.common.v1.ErrorCode;
import ai.sonia.common.v1.Role;
import ai.sonia.memory.v1.GetMemoryRequest;
import ai.sonia.memory.v1.Memory;
import ai.sonia.memory.v1.MemoryServiceGrpc;
import ai.sonia.options.v1.MethodContract;
import ai.sonia.runtime.Errors;
import ai.sonia.runtime.ServiceSpec;
import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.Stack;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.auth.Principal;
import ai.sonia.runtime.auth.ServiceCredentialInterceptor;
import ai.sonia.runtime.testing.TestHomes;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;

/**
 * A {@link Downstream} against a real memory server on loopback, scripted by the memory name it is asked
 * for: the breaker counts only the downstream's faults, each tenant has its own share of the calls in
 * flight, and a restarted downstream is back in use within a couple of seconds.
 */
class DownstreamGuardTest {

    /** GetMemory's contract deadline here: short, so a missed contract deadline is quick to show. */
    private static final long CONTRACT_MS = 1_000;

    private StackConfig config;
    private SoniaServer server;
    private Downstream downstream;
    private final List<CountDownLatch> held = new ArrayList<>();

    /** Answers by name: ok, hang (never), down (UNAVAILABLE), own-timeout (DEADLINE_EXCEEDED at once), CODE. */
    static final class Scripted extends MemoryServiceGrpc.MemoryServiceImplBase {
        private final List<CountDownLatch> held;

        Scripted(List<CountDownLatch> held) {
            this.held = held;
        }

        @Override
        public void getMemory(GetMemoryRequest request, StreamObserver<Memory> out) {
            final String what = request.getName();
            switch (what) {
                case "ok" -> {
                    out.onNext(Memory.newBuilder().setName(what).build());
                    out.onCompleted();
                }
                case "hang" -> { } // never answers: the deadline ends it
                case "hold" -> {
                    final CountDownLatch latch = new CountDownLatch(1);
                    synchronized (held) {
                        held.add(latch);
                    }
                    new Thread(() -> {
                        try {
                            latch.await(30, TimeUnit.SECONDS);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                        out.onNext(Memory.newBuilder().setName(what).build());
                        out.onCompleted();
                    }).start();
                }
                case "down" -> out.onError(Status.UNAVAILABLE.withDescription("scripted down").asRuntimeException());
                case "internal" -> out.onError(Status.INTERNAL.withDescription("scripted").asRuntimeException());
                case "own-timeout" -> // what a tool's own requested timeout looks like from the caller
                        out.onError(Errors.of("test", ErrorCode.ERROR_CODE_TIMEOUT, "tool timed out", Map.of()));
                default -> out.onError(Errors.of("test", ai.sonia.runtime.edge.ErrorMapping.fromWireName(what),
                                                 "scripted " + what, Map.of()));
            }
        }
    }

    @BeforeEach
    void start() {
        final StackConfig any = TestHomes.config("guard", "memory");
        server = newServer(any);
        config = any.withPorts(Map.of("memory", server.port()));
        downstream = Downstream.of(config, Stack.GATEWAY, shortContract(),
                                   new DownstreamPolicy(5, Duration.ofSeconds(30), 16, 4));
    }

    private SoniaServer newServer(StackConfig on) {
        return SoniaServer.builder(Stack.MEMORY, on).addService(new Scripted(held)).build().start();
    }

    /** Memory's contract, with GetMemory's deadline cut to {@link #CONTRACT_MS}. */
    private static ServiceSpec shortContract() {
        return withGetMemoryDeadline(CONTRACT_MS);
    }

    private static ServiceSpec withGetMemoryDeadline(long deadlineMs) {
        final ServiceSpec memory = Stack.MEMORY;
        final Map<String, MethodContract> methods = new LinkedHashMap<>(memory.methods());
        methods.put("GetMemory", methods.get("GetMemory").toBuilder().setDeadlineMs((int) deadlineMs).build());
        return new ServiceSpec(memory.name(), memory.port(), memory.summary(), memory.descriptor(), methods,
                               memory.companions());
    }

    @AfterEach
    void stop() {
        synchronized (held) {
            held.forEach(CountDownLatch::countDown);
        }
        downstream.close();
        server.close();
    }

    private MemoryServiceGrpc.MemoryServiceBlockingStub stub() {
        return MemoryServiceGrpc.newBlockingStub(downstream.channel());
    }

    private MemoryServiceGrpc.MemoryServiceBlockingStub stubFor(String tenant) {
        return stub().withOption(ServiceCredentialInterceptor.ACTING_FOR, Principal.user(tenant, "u", Role.ROLE_USER));
    }

    private static GetMemoryRequest get(String name) {
        return GetMemoryRequest.newBuilder().setName(name).build();
    }

    private static Status.Code codeOf(Runnable call) {
        try {
            call.run();
            return Status.Code.OK;
        } catch (StatusRuntimeException e) {
            return e.getStatus().getCode();
        }
    }

    @Test
    void callersShortDeadlinesNeverOpenTheCircuitAndAnotherCallerSucceeds() {
        for (int i = 0; i < 20; i++) {
            assertThat(codeOf(() -> stub().withDeadlineAfter(50, TimeUnit.MILLISECONDS).getMemory(get("hang"))))
                    .isEqualTo(Status.Code.DEADLINE_EXCEEDED);
        }
        // The same through a gRPC context deadline, as a server passes its caller's deadline on.
        final var timer = java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
        try {
            for (int i = 0; i < 10; i++) {
                final Context.CancellableContext context =
                        Context.current().withDeadlineAfter(30, TimeUnit.MILLISECONDS, timer);
                assertThat(codeOf(() -> context.run(() -> stub().getMemory(get("hang")))))
                        .isEqualTo(Status.Code.DEADLINE_EXCEEDED);
                context.cancel(null);
            }
        } finally {
            timer.shutdownNow();
        }
        assertThat(downstream.circuitState()).isEqualTo("CLOSED");
        assertThat(stub().getMemory(get("ok")).getName()).isEqualTo("ok");
    }

    @Test
    void theContractsOwnDeadlineMissedFiveTimesOpensTheCircuit() {
        for (int i = 0; i < 5; i++) {
            assertThat(codeOf(() -> stub().getMemory(get("hang")))).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
        }
        assertThat(downstream.circuitState()).isEqualTo("OPEN");
        assertThatThrownBy(() -> stub().getMemory(get("ok")))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
                    assertThat(e.getStatus().getDescription()).contains("circuit open");
                });
    }

    @Test
    void aDeadlineExceededAnsweredWellWithinTheDeadlineIsTheDownstreamsAnswer() {
        // A tool's own requested timeout comes back as DEADLINE_EXCEEDED long before the call's deadline.
        for (int i = 0; i < 20; i++) {
            assertThat(codeOf(() -> stub().getMemory(get("own-timeout")))).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
        }
        assertThat(downstream.circuitState()).isEqualTo("CLOSED");
    }

    @Test
    void clientErrorsAndCancellationsNeverCount() throws Exception {
        for (String code : List.of("INVALID_ARGUMENT", "NOT_FOUND", "PERMISSION_DENIED", "UNAUTHENTICATED",
                                   "RATE_LIMITED", "CONFLICT", "POLICY_DENIED")) {
            for (int i = 0; i < 6; i++) {
                assertThat(codeOf(() -> stub().getMemory(get(code)))).isNotIn(Status.Code.OK, Status.Code.UNAVAILABLE);
            }
        }
        for (int i = 0; i < 10; i++) {
            final ListenableFuture<Memory> call = MemoryServiceGrpc.newFutureStub(downstream.channel()).getMemory(get("hang"));
            call.cancel(true);
        }
        // A cancelled call gives its place back once it has closed, which grpc-java does a moment later.
        await().atMost(Duration.ofSeconds(10))
               .untilAsserted(() -> assertThat(stub().getMemory(get("ok")).getName()).isEqualTo("ok"));
        assertThat(downstream.circuitState()).isEqualTo("CLOSED");
    }

    @Test
    void downstreamFaultsOpenTheCircuitAfterFiveInARow() {
        for (int i = 0; i < 3; i++) {
            assertThat(codeOf(() -> stub().getMemory(get("internal")))).isEqualTo(Status.Code.INTERNAL);
        }
        for (int i = 0; i < 2; i++) {
            assertThat(codeOf(() -> stub().getMemory(get("down")))).isEqualTo(Status.Code.UNAVAILABLE);
        }
        assertThat(downstream.circuitState()).isEqualTo("OPEN");
    }

    @Test
    void oneTenantPastItsShareIsRateLimitedAloneAndOthersGoThrough() {
        final List<ListenableFuture<Memory>> holding = new ArrayList<>();
        final var noisy = MemoryServiceGrpc.newFutureStub(downstream.channel())
                                           .withOption(ServiceCredentialInterceptor.ACTING_FOR,
                                                       Principal.user("noisy", "u", Role.ROLE_USER));
        for (int i = 0; i < 4; i++) { // its whole share
            holding.add(noisy.getMemory(get("hold")));
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            synchronized (held) {
                return held.size() == 4;
            }
        });
        assertThatThrownBy(() -> stubFor("noisy").getMemory(get("ok")))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
                    assertThat(Errors.envelopeCode(e)).isEqualTo("RATE_LIMITED");
                });
        for (int i = 0; i < 10; i++) {
            assertThat(stubFor("quiet").getMemory(get("ok")).getName()).isEqualTo("ok");
        }
        assertThat(downstream.circuitState()).isEqualTo("CLOSED");
        synchronized (held) {
            held.forEach(CountDownLatch::countDown);
        }
        holding.forEach(f -> assertThat(f).succeedsWithin(Duration.ofSeconds(10)));
        assertThat(stubFor("noisy").getMemory(get("ok")).getName()).isEqualTo("ok"); // its share is back
    }

    @Test
    void callsThatLiveAsLongAsTheCallerWantsTakeNoPlaceInTheBulkheads() {
        // Deadline 0 in the contract: a watch stream, open for as long as a browser tab is.
        try (Downstream watches = Downstream.of(config, Stack.GATEWAY, withGetMemoryDeadline(0),
                                                new DownstreamPolicy(5, Duration.ofSeconds(30), 4, 2))) {
            final var watcher = MemoryServiceGrpc.newFutureStub(watches.channel())
                                                 .withOption(ServiceCredentialInterceptor.ACTING_FOR,
                                                             Principal.user("tabs", "u", Role.ROLE_USER));
            final List<ListenableFuture<Memory>> open = new ArrayList<>();
            for (int i = 0; i < 6; i++) { // more than the tenant's 2 places and the downstream's 4
                open.add(watcher.getMemory(get("hold")));
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> {
                synchronized (held) {
                    return held.size() == 6;
                }
            });
            assertThat(open).noneMatch(java.util.concurrent.Future::isDone);
            synchronized (held) {
                held.forEach(CountDownLatch::countDown);
            }
            open.forEach(f -> assertThat(f).succeedsWithin(Duration.ofSeconds(10)));
            assertThat(watches.circuitState()).isEqualTo("CLOSED");
        }
    }

    @Test
    void aRestartedDownstreamIsUsedAgainWithinSeconds() {
        assertThat(stub().getMemory(get("ok")).getName()).isEqualTo("ok");
        server.close();
        for (int i = 0; i < 5; i++) {
            assertThat(codeOf(() -> stub().getMemory(get("ok")))).isEqualTo(Status.Code.UNAVAILABLE);
        }
        assertThat(downstream.circuitState()).isEqualTo("OPEN");
        // Down long enough for grpc-java's reconnect backoff to grow past the bound below.
        sleep(Duration.ofSeconds(4));
        server = newServer(config);
        final long back = System.nanoTime();
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20))
               .until(() -> codeOf(() -> stub().getMemory(get("ok"))) == Status.Code.OK);
        final long recoveryMs = (System.nanoTime() - back) / 1_000_000;
        System.out.println("recovery after restart: first successful call " + recoveryMs + " ms after the server listened"
                           + " (circuit was OPEN with a 30 s open duration)");
        assertThat(downstream.circuitState()).isEqualTo("CLOSED");
    }

    @Test
    void aPlainChannelReconnectsToARestartedServiceWithinAboutAQuarterSecond() {
        final io.grpc.ManagedChannel plain = SoniaChannels.forService(config, Stack.GATEWAY, Stack.MEMORY);
        try {
            final var direct = MemoryServiceGrpc.newBlockingStub(plain);
            assertThat(direct.getMemory(get("ok")).getName()).isEqualTo("ok");
            server.close();
            // Calls fail while it is down, and grpc-java's backoff would grow: 1 s, 1.6 s, 2.6 s, ...
            final long downUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(4);
            while (System.nanoTime() < downUntil) {
                assertThat(codeOf(() -> direct.getMemory(get("ok")))).isEqualTo(Status.Code.UNAVAILABLE);
                sleep(Duration.ofMillis(200));
            }
            server = newServer(config);
            final long back = System.nanoTime();
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20))
                   .until(() -> codeOf(() -> direct.getMemory(get("ok"))) == Status.Code.OK);
            System.out.println("reconnect after restart: first successful call " + (System.nanoTime() - back) / 1_000_000
                               + " ms after the server listened (plain channel, no circuit)");
        } finally {
            SoniaChannels.close(plain);
        }
    }

    private static void sleep(Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
