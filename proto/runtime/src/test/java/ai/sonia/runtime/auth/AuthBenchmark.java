package ai.sonia.runtime.auth;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.common.AggregatedHttpResponse;

import ai.sonia.common.v1.Role;
import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.Stack;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.testing.TestCredentials;
import ai.sonia.runtime.testing.TestHomes;

/**
 * What the front door costs. (1) {@code Authenticator.authenticate} in a loop, per credential kind, as
 * µs per call on one thread. (2) The same REST call through a real server over loopback, with a user's access
 * token and with a service credential, next to a call refused for lack of one (same server, same route,
 * interleaved rounds), as p50/p99 and requests per second at a fixed concurrency.
 * Run with {@code scripts/bench-auth [scale]}; prints markdown.
 */
public final class AuthBenchmark {

    public static void main(String[] args) throws Exception {
        final double scale = args.length > 0 ? Double.parseDouble(args[0]) : 1.0;
        final Path out = Path.of(args.length > 1 ? args[1] : "target/bench-auth.md");
        final StackConfig config = TestHomes.config("bench-auth", "memory");
        final String userToken = TestCredentials.userToken(config, "acme", "ann");
        final String serviceToken = ServiceCredentials.of(config).issue("gateway", Principal.user("acme", "ann", Role.ROLE_USER));
        final Authenticator authenticator = Authenticator.of(config);

        final StringBuilder md = new StringBuilder("## Authentication cost\n\n");
        md.append("| credential | µs per authenticate() (1 thread) |\n|---|---|\n");
        for (var entry : Map.of("access token (HS256 JWT)", userToken, "service credential (HS256 JWT)", serviceToken)
                            .entrySet()) {
            md.append("| ").append(entry.getKey()).append(" | ")
              .append(String.format("%.2f", microsPerCall(authenticator, entry.getValue(), (int) (200_000 * scale))))
              .append(" |\n");
        }

        try (SoniaServer server = SoniaServer.builder(Stack.MEMORY, config)
                                             .addService(new AuthEdgeTest.WhoAmI()).build().start()) {
            final String base = "http://127.0.0.1:" + server.port();
            final Map<String, WebClient> clients = new java.util.LinkedHashMap<>();
            clients.put("refused (no credential, 401)", WebClient.of(base));
            clients.put("access token", TestCredentials.webClient(base, userToken));
            clients.put("service credential", TestCredentials.webClient(base, serviceToken));
            final int concurrency = 16;
            final long roundNanos = (long) (2e9 * scale);
            final Map<String, List<Long>> latencies = new java.util.LinkedHashMap<>();
            final Map<String, Long> counts = new java.util.LinkedHashMap<>();
            final Map<String, Long> elapsed = new java.util.LinkedHashMap<>();
            for (int round = 0; round < 4; round++) { // round 0 warms up
                for (var entry : clients.entrySet()) {
                    final List<Long> samples = run(entry.getValue(), concurrency, roundNanos);
                    if (round > 0) {
                        latencies.computeIfAbsent(entry.getKey(), k -> new ArrayList<>()).addAll(samples);
                        counts.merge(entry.getKey(), (long) samples.size(), Long::sum);
                        elapsed.merge(entry.getKey(), roundNanos, Long::sum);
                    }
                }
            }
            md.append("\n| REST GET /v1/memories/a, ").append(concurrency)
              .append(" clients, loopback | p50 ms | p99 ms | req/s |\n|---|---|---|---|\n");
            for (String name : clients.keySet()) {
                final long[] sorted = latencies.get(name).stream().mapToLong(Long::longValue).sorted().toArray();
                md.append("| ").append(name).append(" | ")
                  .append(String.format("%.3f | %.3f | %.0f", sorted[sorted.length / 2] / 1e6,
                                        sorted[(int) (sorted.length * 0.99)] / 1e6,
                                        counts.get(name) / (elapsed.get(name) / 1e9)))
                  .append(" |\n");
            }
        }
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.writeString(out, md);
        System.out.print(md);
    }

    private static double microsPerCall(Authenticator authenticator, String token, int calls) {
        for (int i = 0; i < calls / 4; i++) {
            authenticator.authenticate(token); // warm-up
        }
        final long start = System.nanoTime();
        for (int i = 0; i < calls; i++) {
            authenticator.authenticate(token);
        }
        return (System.nanoTime() - start) / 1e3 / calls;
    }

    private static List<Long> run(WebClient client, int concurrency, long durationNanos) {
        final AtomicBoolean stop = new AtomicBoolean();
        final List<CompletableFuture<List<Long>>> workers = new ArrayList<>();
        final java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(concurrency);
        for (int i = 0; i < concurrency; i++) {
            workers.add(CompletableFuture.supplyAsync(() -> {
                final List<Long> samples = new ArrayList<>();
                while (!stop.get()) {
                    final long start = System.nanoTime();
                    final AggregatedHttpResponse response = client.get("/v1/memories/a").aggregate().join();
                    samples.add(System.nanoTime() - start);
                    if (response.status().code() != 200 && response.status().code() != 401) {
                        throw new IllegalStateException("unexpected " + response.status());
                    }
                }
                return samples;
            }, pool));
        }
        try {
            Thread.sleep(durationNanos / 1_000_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        stop.set(true);
        final List<Long> all = workers.stream().flatMap(w -> w.join().stream()).toList();
        pool.shutdown();
        return all;
    }

    private AuthBenchmark() {}
}
