package ai.sonia.openclaw;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import com.google.protobuf.Struct;
import com.google.protobuf.util.JsonFormat;

import ai.sonia.evaos.EvaOsModule;
import ai.sonia.evaos.domain.RiskClassifier;
import ai.sonia.evaos.v1.AuthorizeActionRequest;
import ai.sonia.evaos.v1.EvaOsServiceGrpc;
import ai.sonia.openclaw.sandbox.Jail;
import ai.sonia.openclaw.sandbox.ProcessRunner;
import ai.sonia.openclaw.sandbox.SandboxLimits;
import ai.sonia.openclaw.sandbox.Workspace;
import ai.sonia.openclaw.v1.ExecuteToolRequest;
import ai.sonia.openclaw.v1.ListToolsRequest;
import ai.sonia.openclaw.v1.OpenClawServiceGrpc;
import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.testing.TestCredentials;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthGrpc;

/**
 * Decision latency, end-to-end ExecuteTool overhead and the jail's cost per spawn, each against a peer
 * measured in the same run. Run by {@code scripts/bench-tools} (which also prints the adversarial
 * corpus's tables from {@link AdversarialCorpusRun}); skipped in the default test run.
 */
@EnabledIfSystemProperty(named = "sonia.bench", matches = "true")
class ToolsBenchmark {

    @Test
    void run() throws Exception {
        final Path home = Path.of("target", "bench-" + UUID.randomUUID()).toAbsolutePath();
        Files.createDirectories(home.resolve("config"));
        Files.writeString(home.resolve("config/sonia.json"), "{}");
        final StackConfig base = StackConfig.load(ai.sonia.runtime.testing.TestHomes.env(home));
        try (SoniaServer evaos = new EvaOsModule().newServer(base.withPorts(Map.of("evaos", 0))).start();
             SoniaServer openclaw = new OpenClawModule().newServer(
                     base.withPorts(Map.of("openclaw", 0))
                         .withEnv(Map.of("SONIA_EVAOS_TARGET", "127.0.0.1:" + evaos.port()))).start()) {
            final ManagedChannel e = ManagedChannelBuilder.forAddress("127.0.0.1", evaos.port()).usePlaintext().build();
            final ManagedChannel o = ManagedChannelBuilder.forAddress("127.0.0.1", openclaw.port()).usePlaintext()
                                                          .build();
            final var admin = TestCredentials.bearer(TestCredentials.adminToken(base));
            final var evaStub = EvaOsServiceGrpc.newBlockingStub(e).withInterceptors(admin);
            final var ocStub = OpenClawServiceGrpc.newBlockingStub(o).withInterceptors(admin);
            final var health = HealthGrpc.newBlockingStub(e).withInterceptors(admin);

            System.out.println("\n## Decision latency (2000 calls after 500 warm-up, 1 caller)");
            final RiskClassifier classifier = new RiskClassifier();
            final Struct ls = json("{\"argv\":[\"ls\",\"-la\"]}");
            final Struct mkdir = json("{\"argv\":[\"mkdir\",\"build\"]}");
            report("classifier in-process (shell.run ls)", measure(20_000, 5_000,
                    () -> classifier.classify("shell.run", ls, "")));
            report("gRPC Health.Check (peer: empty RPC)", measure(2000, 500,
                    () -> health.check(HealthCheckRequest.getDefaultInstance())));
            report("AuthorizeAction LOW -> ALLOW", measure(2000, 500, () -> evaStub.authorizeAction(
                    AuthorizeActionRequest.newBuilder().setToolName("shell.run").setArguments(ls).build())));
            report("AuthorizeAction HIGH -> pending (SQLite lookup)", measure(2000, 500, () -> evaStub.authorizeAction(
                    AuthorizeActionRequest.newBuilder().setToolName("shell.run").setArguments(mkdir).build())));

            System.out.println("\n## ExecuteTool end to end (OpenClaw -> EVA-OS -> run -> audit), 2000 calls");
            final ExecuteToolRequest now = ExecuteToolRequest.newBuilder().setToolName("time.now")
                                                             .setArguments(Struct.getDefaultInstance()).build();
            for (int callers : new int[] {1, 16}) {
                report("ListTools, " + callers + " callers (peer: no EVA-OS, no audit)",
                       concurrent(callers, 2000, () -> ocStub.listTools(ListToolsRequest.newBuilder().setPageSize(1)
                                                                                        .build())));
                report("ExecuteTool time.now, " + callers + " callers", concurrent(callers, 2000,
                                                                                    () -> ocStub.executeTool(now)));
            }

            System.out.println("\n## Spawn cost of /bin/true (300 spawns after 30 warm-up)");
            final Workspace ws = new Workspace(home.resolve("data/openclaw/workspace"));
            report("ProcessBuilder /bin/true (peer: bare spawn)", measure(300, 30, () -> {
                final Process p = new ProcessBuilder("/bin/true").start();
                p.waitFor();
                return p;
            }));
            try (ProcessRunner runner = new ProcessRunner(new Jail(Jail.Mode.NONE, null), SandboxLimits.defaults())) {
                report("ProcessRunner NONE (prlimit + pids cgroup + capture)", measure(300, 30,
                        () -> runner.run(List.of("true"), ws.root(), ws.root(), "", Duration.ofSeconds(10), false)));
            }
            // The jail against a bare bwrap with the same mounts and namespaces, alternated call by call so that
            // both see the same load.
            final Jail jail = new Jail(Jail.Mode.BWRAP, Jail.find("bwrap", System.getenv("PATH")));
            final List<String> jailed = jail.command(List.of("/usr/bin/true"), ws.root(), ws.root(), false, false,
                                                     SandboxLimits.defaults(), SandboxLimits.defaults().fileBytes());
            final List<String> bare = new ArrayList<>(jailed.subList(0, jailed.indexOf("--") + 1));
            bare.add("/usr/bin/true");
            try (ProcessRunner runner = new ProcessRunner(jail, SandboxLimits.defaults())) {
                final long[][] pair = alternate(300, 30, () -> {
                    final Process p = new ProcessBuilder(bare).start();
                    p.waitFor();
                    return p;
                }, () -> runner.run(List.of("true"), ws.root(), ws.root(), "", Duration.ofSeconds(10), false));
                report("bare bwrap /bin/true, the jail's mounts and namespaces (peer)", pair[0]);
                report("ProcessRunner BWRAP (pre-started sandbox of the workspace)", pair[1]);
                final int[] fresh = {0};
                report("ProcessRunner BWRAP, first call of a workspace (starts its sandbox)", measure(30, 3, () -> {
                    final Path root = new Workspace(home.resolve("data/openclaw/tenants/t" + fresh[0]++)).root();
                    return runner.run(List.of("true"), root, root, "", Duration.ofSeconds(10), false);
                }));
            }

            e.shutdownNow();
            o.shutdownNow();
        }
    }

    /** {@code -Dsonia.bench.scale=0.01} runs every measure with a hundredth of its calls (CI: seconds). */
    private static final double SCALE = Double.parseDouble(System.getProperty("sonia.bench.scale", "1"));

    private static long[] measure(int fullN, int fullWarmup, Callable<?> body) throws Exception {
        final int n = Math.max(5, (int) (fullN * SCALE));
        final int warmup = (int) (fullWarmup * SCALE);
        for (int i = 0; i < warmup; i++) {
            body.call();
        }
        final long[] nanos = new long[n];
        for (int i = 0; i < n; i++) {
            final long start = System.nanoTime();
            body.call();
            nanos[i] = System.nanoTime() - start;
        }
        return nanos;
    }

    /** {@code a} and {@code b} called in turn, so that both see the same load; their times apart. */
    private static long[][] alternate(int fullN, int fullWarmup, Callable<?> a, Callable<?> b) throws Exception {
        final int n = Math.max(5, (int) (fullN * SCALE));
        for (int i = 0; i < (int) (fullWarmup * SCALE); i++) {
            a.call();
            b.call();
        }
        final long[][] nanos = new long[2][n];
        for (int i = 0; i < n; i++) {
            long start = System.nanoTime();
            a.call();
            nanos[0][i] = System.nanoTime() - start;
            start = System.nanoTime();
            b.call();
            nanos[1][i] = System.nanoTime() - start;
        }
        return nanos;
    }

    private static long[] concurrent(int callers, int total, Callable<?> body) throws Exception {
        measure(200, 0, body);
        final ExecutorService pool = Executors.newFixedThreadPool(callers);
        final List<Future<long[]>> futures = new ArrayList<>();
        final long start = System.nanoTime();
        for (int c = 0; c < callers; c++) {
            futures.add(pool.submit(() -> measure(total / callers, 0, body)));
        }
        final List<Long> all = new ArrayList<>();
        for (Future<long[]> f : futures) {
            Arrays.stream(f.get()).forEach(all::add);
        }
        final double seconds = (System.nanoTime() - start) / 1e9;
        pool.shutdown();
        System.out.printf(Locale.ROOT, "  throughput %.0f calls/s%n", all.size() / seconds);
        return all.stream().mapToLong(Long::longValue).toArray();
    }

    private static void report(String what, long[] nanos) {
        final long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        System.out.printf(Locale.ROOT, "| %s | p50 %.3f ms | p95 %.3f ms | p99 %.3f ms |%n", what,
                          sorted[sorted.length / 2] / 1e6, sorted[(int) (sorted.length * 0.95)] / 1e6,
                          sorted[(int) (sorted.length * 0.99)] / 1e6);
    }

    private static Struct json(String text) throws Exception {
        final Struct.Builder b = Struct.newBuilder();
        JsonFormat.parser().merge(text, b);
        return b.build();
    }
}
