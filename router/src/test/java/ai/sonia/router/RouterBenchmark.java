package ai.sonia.router;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import ai.sonia.router.FakeProvider.Dialect;
import ai.sonia.router.v1.StreamChatRequest;
import ai.sonia.router.v1.StreamChatResponse;
import ai.sonia.runtime.testing.TestCredentials;

/**
 * Router overhead against calling the same loopback OpenAI-compatible provider directly, with the Portkey
 * gateway (Node) in front of the same provider as the peer, all interleaved in one run. Run it with
 * {@code scripts/bench-router}; it prints a Markdown table. Not part of the test suite.
 */
public final class RouterBenchmark {

    private static final String OPENAI_BODY =
            "{\"model\":\"gpt-test\",\"messages\":[{\"role\":\"user\",\"content\":\"hello there\"}]%s}";
    private static final String ROUTER_BODY =
            "{\"model\":\"gpt\",\"messages\":[{\"role\":\"ROLE_USER\",\"content\":\"hello there\"}]}";
    private static final Pattern OVERHEAD = Pattern.compile("\"router_overhead_micros\"\\s*:\\s*\"?(\\d+)");

    private record Target(String name, HttpRequest unary, HttpRequest stream) {}

    private final HttpClient http;
    private final List<Target> targets = new ArrayList<>();
    private final List<Long> reportedOverheadMicros = new ArrayList<>();
    private final StringBuilder out = new StringBuilder();
    private final RouterFixture router;
    private final double scale;

    private final Map<String, String> routerAuth;

    private RouterBenchmark(RouterFixture router, String providerUrl, String portkeyUrl, double scale) {
        this.router = router;
        this.scale = scale;
        http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                         .executor(Executors.newFixedThreadPool(8)).build();
        targets.add(new Target("direct", post(providerUrl + "/chat/completions", String.format(OPENAI_BODY, ""), Map.of()),
                               post(providerUrl + "/chat/completions", String.format(OPENAI_BODY, ",\"stream\":true"),
                                    Map.of())));
        // The router is closed by default: the bench calls it as the admin of tenant "default".
        routerAuth = Map.of("authorization", "Bearer " + TestCredentials.adminToken(router.config));
        targets.add(new Target("router", post(router.uri() + "/v1/chat:complete", ROUTER_BODY, routerAuth), null));
        if (portkeyUrl != null) {
            final Map<String, String> headers = Map.of("x-portkey-provider", "openai",
                                                       "x-portkey-custom-host", providerUrl,
                                                       "authorization", "Bearer sk-bench");
            targets.add(new Target("portkey", post(portkeyUrl + "/v1/chat/completions", String.format(OPENAI_BODY, ""),
                                                   headers),
                                   post(portkeyUrl + "/v1/chat/completions",
                                        String.format(OPENAI_BODY, ",\"stream\":true"), headers)));
        }
    }

    public static void main(String[] args) throws Exception {
        final String portkeyScript = args.length > 0 ? args[0] : null;
        final double scale = args.length > 1 ? Double.parseDouble(args[1]) : 1.0;
        final Path report = Path.of(args.length > 2 ? args[2] : "target/bench-router.md");
        final FakeProvider provider = new FakeProvider(Dialect.OPENAI, "Sure, here is a short answer for you.");
        final RouterFixture router = new RouterFixture(
                "{\"deployments\":[{\"name\":\"gpt\",\"provider\":\"openai\",\"model\":\"gpt-test\",\"baseUrl\":\""
                + provider.baseUrl() + "\",\"inputPriceMicrosPerMtok\":150000,\"outputPriceMicrosPerMtok\":600000},"
                + "{\"name\":\"extractive\",\"provider\":\"extractive\"}],"
                + "\"aliases\":{\"default\":[\"gpt\"]},"
                + "\"rateLimits\":{\"perPrincipal\":{\"requests\":100000000},\"perIp\":{\"requests\":100000000}}}");
        Process portkey = null;
        String portkeyUrl = null;
        boolean failed = false;
        if (portkeyScript != null && !portkeyScript.isEmpty()) {
            final int port = ai.sonia.runtime.testing.FreePorts.pick();
            portkey = new ProcessBuilder("node", portkeyScript, "--port=" + port)
                    .redirectErrorStream(true).redirectOutput(Path.of("target/portkey.log").toFile()).start();
            portkeyUrl = "http://127.0.0.1:" + port;
        }
        try {
            final RouterBenchmark bench = new RouterBenchmark(router, provider.baseUrl(), portkeyUrl, scale);
            try {
                bench.run();
            } catch (Throwable t) {
                t.printStackTrace();
                failed = true;
                bench.out.append("\nFAILED: ").append(t).append('\n');
            }
            java.nio.file.Files.writeString(report, bench.out);
        } finally {
            if (portkey != null) {
                portkey.destroy();
            }
            router.close();
            provider.close();
            System.exit(failed ? 1 : 0); // a benchmark that breaks fails the build that runs it
        }
    }

    private void run() throws Exception {
        awaitUp();
        line("Warm-up: %d requests per target.", n(3000));
        for (int i = 0; i < n(3000); i++) {
            for (Target t : targets) {
                unary(t);
            }
        }
        reportedOverheadMicros.clear();
        final String loop = System.getProperty("bench.loop"); // for a profile of one target alone
        if (loop != null) {
            loop(loop);
            return;
        }
        line("");
        line("| measure | direct p50 / p99 (ms) | router added p50 / p99 (ms) | portkey added p50 / p99 (ms) | router/portkey added p50 |");
        line("|---|---|---|---|---|");
        sequential();
        if (Boolean.getBoolean("bench.sequentialOnly")) { // for a profile of the sequential case alone
            return;
        }
        for (int concurrency : new int[] { 16, 64 }) {
            concurrent(concurrency, n(4000));
        }
        streaming();
        line("");
        line("Router overhead reported by the router itself (router_overhead_micros), p50 / p99: %s / %s µs",
             pct(toArray(reportedOverheadMicros), 50), pct(toArray(reportedOverheadMicros), 99));
        line("");
        // At least 3 s a target, but 1 s in a tiny run (CI's 0.01: only that it works; the loop spins a core).
        openLoop(1000, Duration.ofSeconds((long) Math.max(scale < 0.1 ? 1 : 3, 10 * scale)));
        line("");
        heap(n(100_000));
    }

    private void sequential() throws Exception {
        final int rounds = n(3000);
        final long[][] samples = new long[targets.size()][rounds];
        for (int i = 0; i < rounds; i++) {
            for (int k = 0; k < targets.size(); k++) {
                final int j = (k + i) % targets.size(); // rotate the order so no target always goes first
                samples[j][i] = unary(targets.get(j));
            }
        }
        row("unary, sequential", samples);
        // Where the router's share goes: its gRPC API without the REST edge, and its REST edge without a provider.
        final long[] grpc = new long[rounds];
        final long[] extractive = new long[rounds];
        final long[] direct = new long[rounds];
        final Target offline = extractive();
        // These two paths (the gRPC client and the server's HTTP/2 gRPC path; the extractive provider) had no
        // warm-up of their own: their first calls ran in the interpreter and made the gRPC row look slower
        // than the REST one. They get the same warm-up as the targets above.
        for (int i = 0; i < n(3000); i++) {
            grpcChat();
            unary(offline);
        }
        for (int i = 0; i < rounds; i++) {
            direct[i] = unary(targets.get(0));
            final long start = System.nanoTime();
            grpcChat();
            grpc[i] = System.nanoTime() - start;
            extractive[i] = unary(offline);
        }
        line("| unary, sequential, router over gRPC (no REST edge) | %s / %s | %s / %s | | |", ms(pct(direct, 50)),
             ms(pct(direct, 99)), ms(pct(grpc, 50) - pct(direct, 50)), ms(pct(grpc, 99) - pct(direct, 99)));
        line("| unary, sequential, router REST with the built-in extractive provider (no provider call), total |"
             + " — | %s / %s | | |", ms(pct(extractive, 50)), ms(pct(extractive, 99)));
    }

    /** The router's REST chat with its built-in extractive provider: the REST edge and the router, no provider call. */
    private Target extractive() {
        return new Target("extractive", post(router.uri() + "/v1/chat:complete",
                                             ROUTER_BODY.replace("\"gpt\"", "\"extractive\""), routerAuth), null);
    }

    private void grpcChat() {
        router.stub.chat(ai.sonia.router.v1.ChatRequest.newBuilder().setModel("gpt")
                                                        .addMessages(Requests.user("hello there")).build());
    }

    /**
     * Calls one target ({@code direct}, {@code router}, {@code extractive} or {@code grpc}) sequentially and reports
     * its p50 and p99; {@code bench.profileStart} and {@code bench.profileStop} (see {@link #profiler}) open an
     * async-profiler window around exactly these calls.
     */
    private void loop(String name) {
        final int rounds = n(10_000);
        final long[] samples = new long[rounds];
        final Target target = switch (name) {
            case "direct" -> targets.get(0);
            case "router" -> targets.get(1);
            case "extractive" -> extractive();
            case "grpc" -> null;
            default -> throw new IllegalArgumentException("bench.loop: direct, router, extractive or grpc, not " + name);
        };
        profiler("bench.profileStart");
        for (int i = 0; i < rounds; i++) {
            if (target != null) {
                samples[i] = unary(target);
            } else {
                final long start = System.nanoTime();
                grpcChat();
                samples[i] = System.nanoTime() - start;
            }
        }
        profiler("bench.profileStop");
        line("| %s alone, %d calls | p50 %s ms | p99 %s ms |", name, rounds, ms(pct(samples, 50)), ms(pct(samples, 99)));
    }

    private static Class<?> profilerApi;

    /**
     * Runs the async-profiler command in the system property {@code property} (e.g. {@code start,event=cpu}), when
     * set, through the profiler's Java API in the jar named by {@code bench.profilerJar}.
     */
    private static void profiler(String property) {
        final String command = System.getProperty(property);
        if (command == null) {
            return;
        }
        try {
            if (profilerApi == null) {
                final ClassLoader loader = new java.net.URLClassLoader(
                        new java.net.URL[] { Path.of(System.getProperty("bench.profilerJar")).toUri().toURL() });
                profilerApi = loader.loadClass("one.profiler.AsyncProfiler");
            }
            final Object instance = profilerApi.getMethod("getInstance", String.class)
                                               .invoke(null, System.getProperty("bench.profilerLib"));
            System.err.println(profilerApi.getMethod("execute", String.class).invoke(instance, command));
        } catch (ReflectiveOperationException | IOException e) {
            throw new IllegalStateException("profiler: " + e, e);
        }
    }

    private void concurrent(int concurrency, int requests) throws Exception {
        final long[][] samples = new long[targets.size()][];
        final ExecutorService pool = Executors.newFixedThreadPool(concurrency);
        // Interleaved in slices, so that drift in the machine's load hits every target alike.
        final int slices = 4;
        final List<List<Long>> collected = new ArrayList<>();
        targets.forEach(t -> collected.add(new ArrayList<>()));
        // The peer's failed calls are its result (counted, left out of its percentiles); ours stop the benchmark.
        final AtomicInteger peerFailures = new AtomicInteger();
        final List<String> peerErrors = new java.util.concurrent.CopyOnWriteArrayList<>();
        for (int s = 0; s < slices; s++) {
            for (int j = 0; j < targets.size(); j++) {
                final Target t = targets.get(j);
                final AtomicInteger left = new AtomicInteger(requests / slices);
                final List<CompletableFuture<List<Long>>> workers = new ArrayList<>();
                for (int w = 0; w < concurrency; w++) {
                    workers.add(CompletableFuture.supplyAsync(() -> {
                        final List<Long> mine = new ArrayList<>();
                        while (left.getAndDecrement() > 0) {
                            try {
                                mine.add(unary(t));
                            } catch (IllegalStateException e) {
                                if (!t.name().equals("portkey")) {
                                    throw e;
                                }
                                if (peerFailures.incrementAndGet() <= 3) {
                                    peerErrors.add(e.getMessage());
                                }
                            }
                        }
                        return mine;
                    }, pool));
                }
                for (CompletableFuture<List<Long>> w : workers) {
                    collected.get(j).addAll(w.join());
                }
            }
        }
        pool.shutdown();
        for (int j = 0; j < targets.size(); j++) {
            samples[j] = toArray(collected.get(j));
        }
        row("unary, " + concurrency + " concurrent callers", samples);
        if (peerFailures.get() > 0) {
            line("(portkey: %d of %d calls failed at %d concurrent callers, left out of its percentiles: %s)",
                 peerFailures.get(), requests, concurrency, String.join("; ", peerErrors));
        }
    }

    private void streaming() throws Exception {
        System.err.println("phase: streaming");
        final int rounds = n(2000);
        final long[][] samples = new long[targets.size()][rounds];
        final String[] failures = new String[targets.size()];
        for (int i = 0; i < rounds; i++) {
            for (int j = 0; j < targets.size(); j++) {
                final Target t = targets.get(j);
                if (failures[j] != null) {
                    continue;
                }
                try {
                    samples[j][i] = t.stream() == null ? routerFirstToken() : httpFirstToken(t.name(), t.stream());
                } catch (RuntimeException | IOException e) {
                    failures[j] = e.getMessage();
                }
            }
        }
        for (int j = 0; j < targets.size(); j++) {
            if (failures[j] != null) {
                line("Streaming through %s failed: %s", targets.get(j).name(), failures[j]);
                samples[j] = new long[0];
            }
        }
        row("streaming, time to first token, sequential", samples);
    }

    private void openLoop(int rps, Duration duration) throws Exception {
        line("| open loop %d rps for %d s | p50 (ms) | p99 (ms) | added p99 vs direct (ms) | errors | sent |", rps,
             duration.toSeconds());
        line("|---|---|---|---|---|---|");
        long[] direct = null;
        for (Target t : targets) {
            final int total = (int) (rps * duration.toSeconds());
            final long[] latencies = new long[total];
            final AtomicLong errors = new AtomicLong();
            final List<CompletableFuture<?>> inFlight = new ArrayList<>(total);
            final long start = System.nanoTime();
            final long interval = 1_000_000_000L / rps;
            for (int i = 0; i < total; i++) {
                final long intended = start + i * interval;
                while (System.nanoTime() < intended) {
                    Thread.onSpinWait();
                }
                final int index = i;
                inFlight.add(http.sendAsync(t.unary(), HttpResponse.BodyHandlers.ofString())
                                 .handle((res, error) -> {
                                     // From the intended start: no coordinated omission.
                                     latencies[index] = System.nanoTime() - intended;
                                     if (error != null || res.statusCode() != 200) {
                                         errors.incrementAndGet();
                                     }
                                     return null;
                                 }));
            }
            CompletableFuture.allOf(inFlight.toArray(CompletableFuture[]::new)).join();
            if (direct == null) {
                direct = latencies.clone();
            }
            line("| %s | %s | %s | %s | %d | %d |", t.name(), ms(pct(latencies, 50)), ms(pct(latencies, 99)),
                 t.name().equals("direct") ? "—" : ms(pct(latencies, 99) - pct(direct, 99)), errors.get(), total);
        }
    }

    private void heap(int requests) throws Exception {
        final Target routerTarget = targets.get(1);
        final long[] used = new long[3];
        final AtomicLong errors = new AtomicLong();
        used[0] = usedHeapAfterGc();
        final ExecutorService pool = Executors.newFixedThreadPool(16);
        for (int half = 1; half <= 2; half++) {
            final AtomicInteger left = new AtomicInteger(requests / 2);
            final List<CompletableFuture<?>> workers = new ArrayList<>();
            for (int w = 0; w < 16; w++) {
                workers.add(CompletableFuture.runAsync(() -> {
                    while (left.getAndDecrement() > 0) {
                        try {
                            unary(routerTarget);
                        } catch (IllegalStateException e) {
                            errors.incrementAndGet();
                        }
                    }
                }, pool));
            }
            workers.forEach(CompletableFuture::join);
            used[half] = usedHeapAfterGc();
        }
        pool.shutdown();
        line("Heap used after a full GC (whole benchmark JVM: router, provider and clients): before %d MiB, after %d"
             + " router requests %d MiB, after %d %d MiB (%d failed requests).", used[0] >> 20, requests / 2,
             used[1] >> 20, requests, used[2] >> 20, errors.get());
    }

    private long unary(Target t) {
        final long start = System.nanoTime();
        try {
            final HttpResponse<String> res = http.send(t.unary(), HttpResponse.BodyHandlers.ofString());
            final long elapsed = System.nanoTime() - start;
            if (res.statusCode() != 200) {
                throw new IllegalStateException(t.name() + ": HTTP " + res.statusCode() + " " + res.body());
            }
            if (t.name().startsWith("router")) {
                final Matcher m = OVERHEAD.matcher(res.body());
                if (m.find()) {
                    synchronized (reportedOverheadMicros) {
                        reportedOverheadMicros.add(Long.parseLong(m.group(1)));
                    }
                }
            }
            return elapsed;
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException(t.name() + ": " + e, e);
        }
    }

    private long httpFirstToken(String name, HttpRequest request) throws Exception {
        final long start = System.nanoTime();
        final HttpResponse<InputStream> res = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
        long first = -1;
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(res.body(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                if (first < 0 && line.contains("\"content\"")) {
                    first = System.nanoTime() - start;
                }
            }
        }
        if (first < 0) {
            throw new IllegalStateException(name + ": no token in stream, HTTP " + res.statusCode());
        }
        return first;
    }

    private long routerFirstToken() {
        final long start = System.nanoTime();
        long first = -1;
        final Iterator<StreamChatResponse> it = router.stub.streamChat(StreamChatRequest.newBuilder().setModel("gpt")
                .addMessages(Requests.user("hello there")).build());
        while (it.hasNext()) {
            final StreamChatResponse e = it.next();
            if (first < 0 && e.hasDelta()) {
                first = System.nanoTime() - start;
            }
        }
        return first;
    }

    private void row(String measure, long[][] samples) {
        final long[] direct = samples[0];
        final long d50 = pct(direct, 50);
        final long d99 = pct(direct, 99);
        final long r50 = pct(samples[1], 50) - d50;
        final long r99 = pct(samples[1], 99) - d99;
        String peer = "not run";
        String ratio = "—";
        if (samples.length > 2 && samples[2].length > 0) {
            final long p50 = pct(samples[2], 50) - d50;
            final long p99 = pct(samples[2], 99) - d99;
            peer = ms(p50) + " / " + ms(p99);
            ratio = p50 > 0 ? String.format("%.2f×", (double) r50 / p50) : "—";
        }
        line("| %s | %s / %s | %s / %s | %s | %s |", measure, ms(d50), ms(d99), ms(r50), ms(r99), peer, ratio);
    }

    private void awaitUp() throws Exception {
        for (Target t : targets) {
            for (int i = 0; ; i++) {
                try {
                    if (http.send(t.unary(), HttpResponse.BodyHandlers.ofString()).statusCode() == 200) {
                        break;
                    }
                } catch (IOException notYet) {
                    // the peer may still be starting
                }
                if (i > 100) {
                    throw new IllegalStateException(t.name() + " did not answer");
                }
                Thread.sleep(200);
            }
        }
    }

    private static long usedHeapAfterGc() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(200);
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    private static HttpRequest post(String url, String body, Map<String, String> headers) {
        final HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30))
                                                 .header("content-type", "application/json")
                                                 .POST(HttpRequest.BodyPublishers.ofString(body));
        headers.forEach(b::header);
        return b.build();
    }

    private int n(int base) {
        return Math.max(100, (int) (base * scale));
    }

    private static long pct(long[] values, int percentile) {
        if (values.length == 0) {
            return 0;
        }
        final long[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(percentile / 100.0 * sorted.length) - 1)];
    }

    private static long[] toArray(List<Long> values) {
        return values.stream().mapToLong(Long::longValue).toArray();
    }

    private static String ms(long nanos) {
        return String.format("%.3f", nanos / 1e6);
    }

    private void line(String format, Object... args) {
        out.append(String.format(format, args)).append('\n');
        System.err.println(String.format(format, args));
    }
}
