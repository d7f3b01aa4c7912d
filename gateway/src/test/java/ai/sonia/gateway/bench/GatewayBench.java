package ai.sonia.gateway.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import com.google.common.util.concurrent.FutureCallback;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.MoreExecutors;

import ai.sonia.gateway.FakeDownstreamsAccess;
import ai.sonia.gateway.v1.ChatRequest;
import ai.sonia.gateway.v1.ChatResponse;
import ai.sonia.gateway.v1.GatewayServiceGrpc;
import ai.sonia.runtime.Stack;
import ai.sonia.runtime.client.SoniaChannels;
import io.grpc.ManagedChannel;
import io.grpc.Status;

/**
 * The gateway benchmark (scripts/bench-gateway): downstreams that answer instantly on loopback, the
 * real gateway, h2load driving REST/JSON and gRPC alike, and fault and deadline runs through the
 * runtime's fault injector. Prints a Markdown report; figures on a shared 2-core VM are ratios first.
 */
public final class GatewayBench {

    private static final String QUESTION = "What is my cat called?";
    /** {@code -Dbench.scale=0.01} for a run of seconds (CI), 1 for the published figures. */
    private static final double SCALE = Double.parseDouble(System.getProperty("bench.scale", "1"));

    private static int n(int full) {
        return Math.max(20, (int) (full * SCALE));
    }

    public static void main(String[] args) throws Exception {
        final Path work = Files.createDirectories(Path.of("target", "bench"));
        final StringBuilder report = new StringBuilder();
        try (FakeDownstreamsAccess.Stack stack = FakeDownstreamsAccess.start(Map.of())) {
            final Path rest = Files.writeString(work.resolve("chat.json"), "{\"text\":\"" + QUESTION + "\"}");
            final Path grpc = Files.write(work.resolve("chat.grpc"), grpcFrame(ChatRequest.newBuilder().setText(QUESTION).build().toByteArray()));
            final Path routerGrpc = Files.write(work.resolve("router.grpc"), grpcFrame(
                    ai.sonia.router.v1.ChatRequest.newBuilder().addMessages(ai.sonia.router.v1.ChatMessage.newBuilder()
                            .setRole(ai.sonia.router.v1.Role.ROLE_USER).setContent(QUESTION)).build().toByteArray()));
            final String gw = "http://127.0.0.1:" + stack.gatewayPort();
            final String router = "http://127.0.0.1:" + stack.port("router");
            for (int i = 0; i < 2; i++) { // warm-up: JIT and connections
                H2load.run(work, gw + "/v1/chat", rest, "application/json", 4, n(2000), stack.token());
                H2load.run(work, gw + "/sonia.gateway.v1.GatewayService/Chat", grpc, "application/grpc", 4, n(2000), stack.token());
            }
            report.append("## REST/JSON vs gRPC, and the orchestration's added latency\n\n")
                  .append("`/v1/chat` (recall -> route -> store) against instant loopback downstreams. ")
                  .append("Added latency = gateway gRPC Chat minus a direct gRPC call to the provider (router) it wraps. ")
                  .append("REST, gRPC and the direct call run interleaved in blocks of max(100, 5 x clients) requests, ")
                  .append("the order rotated every round, so that the ratio is taken under the same load.\n\n")
                  .append("| clients | REST p50 ms | REST p99 ms | gRPC p50 ms | gRPC p99 ms | REST/gRPC p50 | REST/gRPC p99 | provider p50 ms | added p50 ms | added p99 ms | REST req/s | gRPC req/s |\n")
                  .append("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
            for (int clients : new int[] {1, 16, 64}) {
                final int n = n(Math.max(3000, clients * 150));
                // REST, gRPC and the direct router call interleaved in blocks, so that all three see the same load.
                final List<H2load.Result> results = H2load.interleaved(work, List.of(
                        new H2load.Target(gw + "/v1/chat", rest, "application/json"),
                        new H2load.Target(gw + "/sonia.gateway.v1.GatewayService/Chat", grpc, "application/grpc"),
                        new H2load.Target(router + "/sonia.router.v1.RouterService/Chat", routerGrpc, "application/grpc")),
                        clients, n, Math.max(100, clients * 5), stack.token());
                final H2load.Result r = results.get(0);
                final H2load.Result g = results.get(1);
                final H2load.Result p = results.get(2);
                report.append(String.format(Locale.ROOT, "| %d | %.2f | %.2f | %.2f | %.2f | %.2fx | %.2fx | %.2f | %.2f | %.2f | %.0f | %.0f |\n",
                        clients, r.p50(), r.p99(), g.p50(), g.p99(), r.p50() / g.p50(), r.p99() / g.p99(), p.p50(),
                        g.p50() - p.p50(), g.p99() - p.p99(), r.rps(), g.rps()));
                check(r.failed() == 0 && g.failed() == 0, "failed requests in the latency run: " + r + g);
            }
            report.append("\n## Highest rate with p99 under 50 ms (REST /v1/chat, closed loop)\n\n")
                  .append("| clients | req/s | p50 ms | p99 ms |\n|---|---|---|---|\n");
            double best = 0;
            for (int clients : new int[] {1, 2, 4, 8, 16, 32, 64}) {
                final H2load.Result r = H2load.run(work, gw + "/v1/chat", rest, "application/json", clients, n(Math.max(3000, clients * 150)), stack.token());
                report.append(String.format(Locale.ROOT, "| %d | %.0f | %.2f | %.2f |\n", clients, r.rps(), r.p50(), r.p99()));
                if (r.p99() < 50) {
                    best = Math.max(best, r.rps());
                }
            }
            report.append(String.format(Locale.ROOT, "\nHighest sustained rate with p99 < 50 ms: **%.0f req/s**.\n", best));
        }
        report.append(faultRun(0.1, n(10_000)));
        report.append(faultRun(1.0, n(2_000)));
        report.append(deadlineRun(Math.max(10, n(50)), 200));
        System.out.println(report);
        if (args.length > 0) {
            Files.writeString(Path.of(args[0]), report.toString());
        }
    }

    /** Chats while memory fails a share of its calls (injected); counts attempts at the memory server. */
    private static String faultRun(double rate, int requests) throws Exception {
        try (FakeDownstreamsAccess.Stack stack = FakeDownstreamsAccess.start(
                Map.of("SONIA_MEMORY_FAULTS", rate + ":UNAVAILABLE"))) {
            final ManagedChannel channel = SoniaChannels.forTarget("127.0.0.1:" + stack.gatewayPort(), Stack.GATEWAY,
                                                                   ai.sonia.runtime.testing.TestCredentials.bearer(stack.token()));
            final GatewayServiceGrpc.GatewayServiceFutureStub stub = GatewayServiceGrpc.newFutureStub(channel);
            final Map<String, AtomicInteger> byCode = new TreeMap<>();
            final AtomicInteger degraded = new AtomicInteger();
            final AtomicInteger memoryCalls = new AtomicInteger();
            final AtomicInteger memoryFailed = new AtomicInteger();
            final AtomicInteger hung = new AtomicInteger();
            final Semaphore inFlight = new Semaphore(16);
            final CountDownLatch done = new CountDownLatch(requests);
            for (int i = 0; i < requests; i++) {
                inFlight.acquire();
                final long start = System.nanoTime();
                Futures.addCallback(stub.withDeadlineAfter(5, TimeUnit.SECONDS)
                                        .chat(ChatRequest.newBuilder().setText(QUESTION).build()), new FutureCallback<>() {
                    @Override
                    public void onSuccess(ChatResponse r) {
                        byCode.computeIfAbsent("OK", k -> new AtomicInteger()).incrementAndGet();
                        if (r.getProvenance().getDegradedCount() > 0) {
                            degraded.incrementAndGet();
                        }
                        for (var call : r.getProvenance().getCallsList()) {
                            if (call.getService().equals("memory")) {
                                memoryCalls.incrementAndGet();
                                if (!call.getErrorCode().isEmpty()) {
                                    memoryFailed.incrementAndGet();
                                }
                            }
                        }
                        finish();
                    }

                    @Override
                    public void onFailure(Throwable t) {
                        final Status.Code code = Status.fromThrowable(t).getCode();
                        synchronized (byCode) {
                            byCode.computeIfAbsent(code.name(), k -> new AtomicInteger()).incrementAndGet();
                        }
                        if (code == Status.Code.DEADLINE_EXCEEDED || System.nanoTime() - start > 5_500_000_000L) {
                            hung.incrementAndGet();
                        }
                        finish();
                    }

                    private void finish() {
                        inFlight.release();
                        done.countDown();
                    }
                }, MoreExecutors.directExecutor());
            }
            final boolean allAnswered = done.await(120, TimeUnit.SECONDS);
            final double attempts = stack.memoryAttempts("SearchMemories");
            final String circuit = stack.circuitState("memory");
            SoniaChannels.close(channel);
            return String.format(Locale.ROOT, "\n## Fault run: memory fails %.0f%% of calls (injected UNAVAILABLE)\n\n"
                                 + "Chats through the gateway at 16 in flight; memory's SearchMemories and StoreMemory are "
                                 + "idempotent, so retried (3 attempts, x1.5 backoff, retry budget); attempts counted at "
                                 + "the memory server, injected failures included.\n\n"
                                 + "| chats sent | answered | by code | degraded | memory calls that succeeded after retries | SearchMemories attempts per chat | circuit after | hung or lost |\n"
                                 + "|---|---|---|---|---|---|---|---|\n"
                                 + "| %d | %d | %s | %d | %.2f%% (%d of %d) | %.3f | %s | %d |\n",
                                 rate * 100, requests, requests - done.getCount(), byCode, degraded.get(),
                                 memoryCalls.get() == 0 ? 0 : 100.0 * (memoryCalls.get() - memoryFailed.get()) / memoryCalls.get(),
                                 memoryCalls.get() - memoryFailed.get(), memoryCalls.get(),
                                 attempts / requests, circuit, hung.get() + (allAnswered ? 0 : (int) done.getCount()));
        }
    }

    /** A router that never answers: how long after the caller's deadline is its work cancelled? */
    private static String deadlineRun(int calls, long deadlineMs) throws Exception {
        // A breaker that never opens here: this run measures cancellation, not fail-fast.
        try (FakeDownstreamsAccess.Stack stack = FakeDownstreamsAccess.start(
                Map.of(), new ai.sonia.runtime.client.DownstreamPolicy(1_000_000, java.time.Duration.ofSeconds(1), 256))) {
            FakeDownstreamsAccess.slowRouter();
            final ManagedChannel channel = SoniaChannels.forTarget("127.0.0.1:" + stack.gatewayPort(), Stack.GATEWAY,
                                                                   ai.sonia.runtime.testing.TestCredentials.bearer(stack.token()));
            final GatewayServiceGrpc.GatewayServiceBlockingStub stub = GatewayServiceGrpc.newBlockingStub(channel);
            final List<Double> overshoots = new ArrayList<>();
            final Map<String, Integer> codes = new TreeMap<>();
            for (int i = 0; i < calls; i++) {
                FakeDownstreamsAccess.routerCancelTimes().clear();
                final long start = System.nanoTime();
                try {
                    stub.withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS).chat(ChatRequest.newBuilder().setText(QUESTION).build());
                    codes.merge("OK", 1, Integer::sum);
                } catch (io.grpc.StatusRuntimeException e) {
                    codes.merge(e.getStatus().getCode().name(), 1, Integer::sum);
                }
                final long deadline = System.nanoTime() + 2_000_000_000L;
                while (FakeDownstreamsAccess.routerCancelTimes().isEmpty() && System.nanoTime() < deadline) {
                    Thread.sleep(1);
                }
                final Long cancelled = FakeDownstreamsAccess.routerCancelTimes().peek();
                overshoots.add(cancelled == null ? Double.NaN : (cancelled - start) / 1e6 - deadlineMs);
            }
            SoniaChannels.close(channel);
            final double[] sorted = overshoots.stream().filter(d -> !d.isNaN()).mapToDouble(Double::doubleValue)
                                              .sorted().toArray();
            return String.format(Locale.ROOT, "\n## Deadlines: downstream work cancelled after the caller's deadline\n\n"
                                 + "%d chats with a %d ms deadline against a router that never answers.\n\n"
                                 + "| outcome | router calls cancelled | cancelled after the deadline: p50 ms | p99 ms | max ms |\n"
                                 + "|---|---|---|---|---|\n"
                                 + "| %s | %d of %d | %.1f | %.1f | %.1f |\n",
                                 calls, deadlineMs, codes, sorted.length, calls, H2load.percentile(sorted, 50),
                                 H2load.percentile(sorted, 99), sorted.length == 0 ? Double.NaN : sorted[sorted.length - 1]);
        }
    }

    static byte[] grpcFrame(byte[] message) {
        final byte[] frame = new byte[5 + message.length];
        frame[1] = (byte) (message.length >>> 24);
        frame[2] = (byte) (message.length >>> 16);
        frame[3] = (byte) (message.length >>> 8);
        frame[4] = (byte) message.length;
        System.arraycopy(message, 0, frame, 5, message.length);
        return frame;
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new IllegalStateException(what);
        }
    }

    private GatewayBench() {}

}
