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
import com.google.rpc.ErrorInfo;

import ai.sonia.evaos.EvaOsModule;
import ai.sonia.evaos.domain.RiskClassifier;
import ai.sonia.evaos.v1.AuthorizeActionRequest;
import ai.sonia.evaos.v1.DecideApprovalRequest;
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
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.protobuf.StatusProto;

/**
 * Decision latency, end-to-end ExecuteTool overhead, the jail's cost per spawn, and the adversarial
 * corpus, each against a peer measured in the same run. Run by {@code scripts/bench-tools}; skipped
 * in the default test run.
 */
@EnabledIfSystemProperty(named = "sonia.bench", matches = "true")
class ToolsBenchmark {

    @Test
    void run() throws Exception {
        final Path home = Path.of("target", "bench-" + UUID.randomUUID()).toAbsolutePath();
        Files.createDirectories(home.resolve("config"));
        Files.writeString(home.resolve("config/sonia.json"), "{}");
        final StackConfig base = StackConfig.load(Map.of("SONIA_HOME", home.toString()));
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
            for (Jail.Mode mode : new Jail.Mode[] {Jail.Mode.NONE, Jail.Mode.BWRAP}) {
                try (ProcessRunner runner = new ProcessRunner(new Jail(mode, Jail.find("bwrap", System.getenv("PATH"))),
                                                              SandboxLimits.defaults())) {
                    report("ProcessRunner " + mode + " (prlimit + pids cgroup + capture)", measure(300, 30,
                            () -> runner.run(List.of("true"), ws.root(), ws.root(), "", Duration.ofSeconds(10), false)));
                }
            }

            System.out.println("\n## Adversarial corpus through the real servers (a person approves whatever asks)");
            corpus(home, ocStub, evaStub);
            e.shutdownNow();
            o.shutdownNow();
        }
    }

    private static void corpus(Path home, OpenClawServiceGrpc.OpenClawServiceBlockingStub oc,
                               EvaOsServiceGrpc.EvaOsServiceBlockingStub eva) throws Exception {
        final Path outside = Files.createDirectories(home.resolve("outside"));
        Files.writeString(outside.resolve("secret.txt"), "s3cret");
        Files.createSymbolicLink(home.resolve("data/openclaw/workspace/planted"), outside);
        Files.createSymbolicLink(home.resolve("data/openclaw/workspace/etc-link"), Path.of("/etc/passwd"));
        // A tarball that plants a symlink to the outside, then writes a file through it.
        final Path staging = Files.createDirectories(home.resolve("staging/a"));
        Files.createSymbolicLink(staging.resolve("esc"), outside);
        Files.createDirectories(home.resolve("staging/b/esc"));
        Files.writeString(home.resolve("staging/b/esc/pwned.txt"), "pwned");
        final String tar = home.resolve("data/openclaw/workspace/evil.tar").toString();
        new ProcessBuilder("tar", "-cf", tar, "-C", staging.toString(), "esc").start().waitFor();
        new ProcessBuilder("tar", "-rf", tar, "-C", home.resolve("staging/b").toString(), "esc/pwned.txt")
                .start().waitFor();
        final String[][] cases = {
                {"file.read", "{\"path\":\"../../outside/secret.txt\"}"},
                {"file.read", "{\"path\":\"/etc/passwd\"}"},
                {"file.read", "{\"path\":\"planted/secret.txt\"}"},
                {"file.write", "{\"path\":\"planted/new.txt\",\"content\":\"x\"}"},
                {"file.write", "{\"path\":\"planted/../../x\",\"content\":\"x\"}"},
                {"file.delete", "{\"path\":\"planted\",\"recursive\":true}"},
                {"file.delete", "{\"path\":\".\",\"recursive\":true}"},
                {"file.list", "{\"path\":\"planted\"}"},
                {"file.search", "{\"query\":\"s3cret\",\"path\":\"planted\"}"},
                {"shell.run", "{\"argv\":[\"cat\",\"planted/secret.txt\"]}"},
                {"shell.run", "{\"argv\":[\"cat\",\"etc-link\"]}"},
                {"shell.run", "{\"argv\":[\"tar\",\"-xf\",\"evil.tar\"]}"},
                {"shell.run", "{\"argv\":[\"ls\",\"; cat /etc/passwd\"]}"},
                {"shell.run", "{\"argv\":[\"echo\",\"$(cat ../outside/secret.txt)\"]}"},
                {"shell.run", "{\"argv\":[\"echo\",\"`id`\"]}"},
                {"shell.run", "{\"argv\":[\"cat\",\"{planted,x}/secret.txt\"]}"},
                {"shell.run", "{\"argv\":[\"cat\",\"<(cat /etc/passwd)\"]}"},
                {"shell.run", "{\"argv\":[\"find\",\".\",\"-exec\",\"cat\",\"{}\",\"+\"]}"},
                {"shell.run", "{\"argv\":[\"sort\",\"--compress-prog=sh\",\"x\"]}"},
                {"shell.run", "{\"argv\":[\"tar\",\"--to-comm=sh\",\"-xf\",\"a.tar\"]}"},
                {"shell.run", "{\"argv\":[\"tar\",\"-xIsh\",\"-f\",\"a.tar\"]}"},
                {"shell.run", "{\"argv\":[\"LD_PRELOAD=/tmp/x.so\",\"ls\"]}"},
                {"shell.run", "{\"argv\":[\"env\",\"LD_PRELOAD=/tmp/x.so\",\"ls\"]}"},
                {"shell.run", "{\"argv\":[\"sh\",\"-c\",\"cat /etc/shadow\"]}"},
                {"shell.run", "{\"argv\":[\"/bin/sh\",\"-c\",\"id\"]}"},
                {"shell.run", "{\"argv\":[\"rm\",\"-rf\",\"/\"]}"},
                {"shell.run", "{\"argv\":[\"rm\",\"-rf\",\"planted/\"]}"},
                {"shell.run", "{\"argv\":[\"cp\",\"planted/secret.txt\",\"stolen.txt\"]}"},
                {"shell.run", "{\"argv\":[\"sudo\",\"id\"]}"},
                {"shell.run", "{\"argv\":[\"python3\",\"-c\",\"print(1)\"]}"},
                {"shell.run", "{\"argv\":[\"curl\",\"http://example.com\"]}"},
                {"http.fetch", "{\"url\":\"http://example.com/\"}"},
                {"http.fetch", "{\"url\":\"http://0x7f.1/\"}"},
                {"http.fetch", "{\"url\":\"http://2130706433/\"}"},
                {"http.fetch", "{\"url\":\"http://[::ffff:127.0.0.1]/\"}"},
                {"http.fetch", "{\"url\":\"http://evil.com@127.0.0.1/\"}"},
                {"http.fetch", "{\"url\":\"file:///etc/passwd\"}"},
                {"http.fetch", "{\"url\":\"http://169.254.169.254/latest/meta-data\"}"},
                {"http.fetch", "{\"url\":\"http://localhost.evil.com/\"}"},
                {"calc.eval", "{\"expression\":\"java.lang.Runtime.getRuntime().exec('id')\"}"},
                {"disk.format", "{}"},
        };
        int deniedByEvaOs = 0;
        int blockedBySandbox = 0;
        int contained = 0;
        int escaped = 0;
        final List<String> escapes = new ArrayList<>();
        for (String[] c : cases) {
            final ExecuteToolRequest request = ExecuteToolRequest.newBuilder().setToolName(c[0])
                                                                 .setArguments(json(c[1])).build();
            String outcome = attempt(oc, request);
            if (outcome.startsWith("APPROVAL_REQUIRED:")) {
                final String id = outcome.substring("APPROVAL_REQUIRED:".length());
                eva.decideApproval(DecideApprovalRequest.newBuilder().setApprovalId(id).setApprove(true).build());
                outcome = attempt(oc, request.toBuilder().setApprovalId(id).build());
            }
            if (outcome.equals("OK") || outcome.equals("RAN")) {
                final boolean outsideChanged = !Files.readString(outside.resolve("secret.txt")).equals("s3cret")
                                               || Files.list(outside).count() != 1;
                if (outcome.equals("OK") || outsideChanged) {
                    escaped++;
                    escapes.add(c[0] + ' ' + c[1]);
                } else {
                    contained++;
                }
            } else if (outcome.equals("POLICY_DENIED") || outcome.equals("NOT_FOUND")) {
                deniedByEvaOs++;
            } else {
                blockedBySandbox++;
            }
        }
        final boolean secretIntact = Files.readString(outside.resolve("secret.txt")).equals("s3cret")
                                     && Files.list(outside).count() == 1
                                     && Files.readString(Path.of("/etc/passwd")).contains("root")
                                     && !Files.exists(home.resolve("data/openclaw/workspace/stolen.txt"));
        System.out.printf(Locale.ROOT, "| cases tried | denied by EVA-OS (or unknown tool) | refused by OpenClaw's"
                                       + " checks after a blind approval | ran, contained by the jail | escaped"
                                       + " | outside intact |%n");
        System.out.printf(Locale.ROOT, "| %d | %d | %d | %d | %d | %s |%n", cases.length, deniedByEvaOs,
                          blockedBySandbox, contained, escaped, secretIntact);
        escapes.forEach(x -> System.out.println("ESCAPED: " + x));
    }

    private static String attempt(OpenClawServiceGrpc.OpenClawServiceBlockingStub oc, ExecuteToolRequest request) {
        try {
            final var response = oc.executeTool(request);
            // "OK" when it got something secret out; "RAN" when it ran and got nothing (the effect check follows).
            final String seen = response.getStdout() + response.getOutput();
            return seen.contains("s3cret") || seen.contains("root:x:0:0") ? "OK" : "RAN";
        } catch (StatusRuntimeException e) {
            final ErrorInfo info = StatusProto.fromThrowable(e).getDetailsList().stream()
                                              .filter(a -> a.is(ErrorInfo.class)).findFirst()
                                              .map(a -> {
                                                  try {
                                                      return a.unpack(ErrorInfo.class);
                                                  } catch (Exception x) {
                                                      return ErrorInfo.getDefaultInstance();
                                                  }
                                              }).orElse(ErrorInfo.getDefaultInstance());
            return info.getReason().equals("APPROVAL_REQUIRED") ? "APPROVAL_REQUIRED:" + info.getMetadataOrThrow(
                    "approval_id") : info.getReason().isEmpty() ? e.getStatus().getCode().name() : info.getReason();
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
