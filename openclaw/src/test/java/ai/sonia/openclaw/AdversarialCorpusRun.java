package ai.sonia.openclaw;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;

import com.google.protobuf.Struct;
import com.google.protobuf.util.JsonFormat;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.ResponseHeaders;
import com.linecorp.armeria.server.Server;

import ai.sonia.common.v1.Role;
import ai.sonia.evaos.v1.DecideApprovalRequest;
import ai.sonia.openclaw.AdversarialCorpus.Case;
import ai.sonia.openclaw.AdversarialCorpus.Expect;
import ai.sonia.openclaw.v1.ExecuteToolRequest;
import ai.sonia.openclaw.v1.ExecuteToolResponse;
import ai.sonia.openclaw.v1.OpenClawServiceGrpc.OpenClawServiceBlockingStub;
import ai.sonia.runtime.Errors;
import ai.sonia.runtime.errors.DomainException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * Runs {@link AdversarialCorpus} through real EVA-OS and OpenClaw servers as a self-registered plain user
 * ("mallory" of tenant "acme"), approving blindly whatever asks, and after every case checks that the
 * machine (files outside the workspace, the stack's secrets and config, the other tenants' workspaces) is
 * byte-for-byte unchanged and that no secret appeared in any answer. Run twice: with bubblewrap, and with
 * bubblewrap hidden from the service (a PATH without it), where every program must be refused with
 * FAILED_PRECONDITION and never run unconfined. Prints the benchmark table and writes it to
 * {@code target/adversarial-corpus-<mode>.md}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class AdversarialCorpusRun {

    /** How a case ended. */
    enum Outcome { REFUSED_BY_POLICY, REFUSED_BY_JAIL, RAN_CONTAINED, ESCAPED }

    private static final ObjectMapper mapper = new ObjectMapper();
    private static final long QUOTA = 1L << 20;

    private final String tag = UUID.randomUUID().toString().substring(0, 8);
    private final String outsideSecret = "OUTSIDE-SECRET-" + tag;
    private final String plantedSecret = "PLANTED-SECRET-" + tag;
    private final String globexSecret = "GLOBEX-SECRET-" + tag;
    private final List<String> secrets = new ArrayList<>();
    private final Map<Outcome, Integer> counts = new TreeMap<>();
    private final Map<String, List<String>> byCategory = new TreeMap<>();
    private final Map<String, Integer> refusedBy = new TreeMap<>();
    private final List<String> escapes = new ArrayList<>();

    private Server target;
    private OpenClawTestStack stack;
    private OpenClawServiceBlockingStub mallory;
    private String acmeAdmin;
    private Path acme;
    private Path globex;
    private Map<String, String> machine;
    private Set<Path> plantedLinks;

    /** True for the half that runs with bubblewrap. */
    abstract boolean withBubblewrap();

    /** Extra environment for OpenClaw. */
    abstract Map<String, String> openclawEnv();

    String mode() {
        return withBubblewrap() ? "with-bubblewrap" : "without-bubblewrap";
    }

    @BeforeAll
    void start() throws Exception {
        if (withBubblewrap() && !TestJail.works()) {
            return; // each test skips itself (needsTheJail)
        }
        final int[] ports = new int[2];
        target = ai.sonia.runtime.SoniaServer.stopAtOnce(Server.builder()).http(0)
                       .service("/ok", (ctx, req) -> HttpResponse.of("hello"))
                       .service("/to-ok", (ctx, req) -> redirect("/ok"))
                       .service("/to-loopback", (ctx, req) -> redirect("http://127.0.0.1:" + ports[0] + "/status"))
                       .service("/to-evaos", (ctx, req) -> redirect("http://127.0.0.1:" + ports[1] + "/"))
                       .service("/to-metadata", (ctx, req) -> redirect("http://169.254.169.254/latest/meta-data/"))
                       .service("/to-mapped", (ctx, req) -> redirect("http://[::ffff:127.0.0.1]:" + ports[0] + "/"))
                       .service("/to-file", (ctx, req) -> redirect("file:///etc/passwd"))
                       .service("/loop", (ctx, req) -> redirect("/loop"))
                       .service("/slow", (ctx, req) -> HttpResponse.delayed(HttpResponse.of("late"),
                                                                             Duration.ofSeconds(4)))
                       .build();
        target.start().join();
        final String config = "{\"services\":{\"openclaw\":{\"quotaBytes\":" + QUOTA + ",\"http\":{\"timeoutSeconds\":1,"
                              + "\"allowedHosts\":[\"127.0.0.1:" + target.activeLocalPort() + "\"]}}}}";
        stack = new OpenClawTestStack(config, openclawEnv());
        ports[0] = stack.openclaw.port();
        ports[1] = stack.evaos.port();
        mallory = stack.tools(stack.token("acme", "mallory", Role.ROLE_USER));
        acmeAdmin = stack.token("acme", "root-acme", Role.ROLE_ADMIN);
        plant();
        machine = snapshot();
    }

    private static HttpResponse redirect(String location) {
        return HttpResponse.of(ResponseHeaders.of(HttpStatus.FOUND, "location", location));
    }

    /** The outside, the secrets and the other tenants' data, and what the attacker's workspace holds. */
    private void plant() throws Exception {
        final Path home = stack.home;
        final Path outside = Files.createDirectories(home.resolve("outside"));
        Files.writeString(outside.resolve("secret.txt"), outsideSecret);
        final Path secretsDir = Files.createDirectories(home.resolve("secrets"));
        Files.writeString(secretsDir.resolve("planted-secret.key"), plantedSecret);
        // The stack's own keys are secrets too: none may ever appear in an answer.
        try (Stream<Path> keys = Files.list(secretsDir)) {
            for (Path key : keys.toList()) {
                final String text = Files.readString(key).trim();
                if (text.length() >= 8) {
                    secrets.add(text);
                }
            }
        }
        secrets.add(outsideSecret);
        secrets.add(globexSecret);
        final Path tenants = home.resolve("data/openclaw/tenants");
        acme = Files.createDirectories(tenants.resolve("acme")).toRealPath();
        globex = Files.createDirectories(tenants.resolve("globex")).toRealPath();
        Files.writeString(globex.resolve("globex-secret.txt"), globexSecret);
        Files.writeString(stack.defaultWorkspace().resolve("default-secret.txt"), "DEFAULT-" + globexSecret);
        // globex keeps a memory with its secret; mallory's searches must never find it.
        call(stack.tools(stack.token("globex", "gina", Role.ROLE_USER)), "memory.store",
             "{\"text\":\"" + globexSecret + "\",\"kind\":\"fact\"}", stack.token("globex", "root-globex",
                                                                              Role.ROLE_ADMIN));

        Files.writeString(acme.resolve("a.txt"), "alpha\nbeta\nalpha\n");
        Files.writeString(acme.resolve("list.txt"), secretsDir.resolve("access-token.key") + "\0"
                                                    + outside.resolve("secret.txt") + '\0');
        Files.writeString(acme.resolve("rel-list.txt"), "planted/secret.txt\0");
        Files.write(acme.resolve("big.bin"), new byte[200 << 10]);
        Files.createSymbolicLink(acme.resolve("planted"), outside);
        Files.createSymbolicLink(acme.resolve("secrets-link"), secretsDir);
        Files.createSymbolicLink(acme.resolve("key-link"), secretsDir.resolve("access-token.key"));
        Files.createSymbolicLink(acme.resolve("globex-link"), globex);
        Files.createSymbolicLink(acme.resolve("etc-shadow"), Path.of("/etc/shadow"));
        Files.createDirectories(acme.resolve("sub"));
        Files.writeString(acme.resolve("sub/inner.txt"), "inner\n");
        Files.createSymbolicLink(acme.resolve("sub/deep"), outside);
        // Archives that plant links to the outside and then write through them.
        final Path staging = Files.createDirectories(home.resolve("staging"));
        tarOf(acme.resolve("evil.tar"), staging, "esc", outside.toString(), "esc/pwned.txt");
        tarOf(acme.resolve("evil-up.tar"), staging, "up", "../../../../../outside", "up/pwned-up.txt");
        tarOf(acme.resolve("evil-abs.tar"), staging, "abs", "/", "abs/tmp/pwned-abs.txt");
        final Path suid = Files.createDirectories(staging.resolve("suid"));
        Files.writeString(suid.resolve("suid-bin"), "#!/bin/sh\nid\n");
        run("chmod", "6755", suid.resolve("suid-bin").toString());
        run("tar", "-cf", acme.resolve("suid.tar").toString(), "-C", suid.toString(), "suid-bin");
        final Path fifo = Files.createDirectories(staging.resolve("fifo"));
        run("mkfifo", fifo.resolve("pipe").toString());
        run("tar", "-cf", acme.resolve("fifo.tar").toString(), "-C", fifo.toString(), "pipe");
        final Path bomb = Files.createDirectories(staging.resolve("bomb"));
        for (int i = 0; i < 40; i++) {
            Files.write(bomb.resolve("part-" + i + ".bin"), new byte[40 << 10]);
        }
        run("tar", "-czf", acme.resolve("bomb.tar").toString(), "-C", bomb.toString(), ".");
        plantedLinks = Set.copyOf(escapingLinks());
    }

    /** An archive holding a symbolic link {@code link} -> {@code target}, then a file written through it. */
    private static void tarOf(Path tar, Path staging, String link, String target, String through) throws Exception {
        final Path a = Files.createDirectories(staging.resolve(UUID.randomUUID().toString()));
        Files.createSymbolicLink(a.resolve(link), Path.of(target));
        final Path b = Files.createDirectories(staging.resolve(UUID.randomUUID().toString()));
        Files.createDirectories(b.resolve(through).getParent());
        Files.writeString(b.resolve(through), "pwned");
        run("tar", "-cf", tar.toString(), "-C", a.toString(), link);
        run("tar", "-rf", tar.toString(), "-C", b.toString(), through);
    }

    private static void run(String... command) throws Exception {
        final Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        final String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IllegalStateException(String.join(" ", command) + ": " + out);
        }
    }

    /** With bubblewrap asked for, each test is reported skipped, with the reason, when it is missing (TestJail). */
    @BeforeEach
    void needsTheJail() {
        if (withBubblewrap()) {
            TestJail.requireBubblewrap();
        }
    }

    @AfterAll
    void stop() throws Exception {
        if (stack != null) {
            stack.close();
        }
        if (target != null) {
            target.stop().join();
        }
        if (counts.isEmpty()) {
            return;
        }
        final int total = counts.values().stream().mapToInt(Integer::intValue).sum();
        final StringBuilder table = new StringBuilder();
        table.append("| run | cases | refused by policy (EVA-OS / OpenClaw's checks / quota) | refused by the jail"
                     + " (no bubblewrap) | ran, contained | escaped |\n");
        table.append(String.format(Locale.ROOT, "| %s | %d | %d (%d / %d / %d) | %d | %d | %d |%n", mode(), total,
                                   counts.getOrDefault(Outcome.REFUSED_BY_POLICY, 0),
                                   refusedBy.getOrDefault("EVA-OS", 0), refusedBy.getOrDefault("OpenClaw's checks", 0),
                                   refusedBy.getOrDefault("quota", 0),
                                   counts.getOrDefault(Outcome.REFUSED_BY_JAIL, 0),
                                   counts.getOrDefault(Outcome.RAN_CONTAINED, 0),
                                   counts.getOrDefault(Outcome.ESCAPED, 0)));
        table.append("\nof the ").append(refusedBy.getOrDefault("EVA-OS", 0)).append(" refused by EVA-OS (").append(mode())
             .append("), OpenClaw's own checks refuse ").append(refusedBy.getOrDefault("EVA-OS, and OpenClaw alone too", 0))
             .append(" too when asked directly (defence in depth)\n");
        table.append("\nby category (").append(mode()).append("): ");
        byCategory.forEach((category, outcomes) -> table.append(category).append(' ').append(outcomes.size())
                                                        .append(", "));
        table.setLength(table.length() - 2);
        table.append('\n');
        escapes.forEach(e -> table.append("ESCAPED: ").append(e).append('\n'));
        System.out.println("\n## Adversarial corpus, " + mode() + "\n" + table);
        Files.writeString(Path.of("target", "adversarial-corpus-" + mode() + ".md"), table.toString());
    }

    @Test
    void statusShowsWhetherToolProgramsCanRun() throws Exception {
        final String body = stack.rest(stack.adminToken()).get("/status").aggregate().join().contentUtf8();
        final JsonNode root = mapper.readTree(body);
        final JsonNode config = root.has("data") ? root.path("data").path("config") : root.path("config");
        if (withBubblewrap()) {
            assertThat(config.path("jail_state").asText()).startsWith("bubblewrap at ");
            assertThat(config.path("tools_off").asText()).isEmpty();
        } else {
            assertThat(config.path("jail_state").asText()).startsWith("unavailable");
            assertThat(config.path("tools_off").asText()).isEqualTo("shell.run");
            assertThat(config.path("tools_off_reason").asText()).contains("bubblewrap")
                                                                .contains("apt-get install -y bubblewrap");
            assertThat(config.path("warning").asText()).contains("shell.run is off");
        }
    }

    @TestFactory
    Stream<DynamicTest> corpus() {
        assertThat(AdversarialCorpus.CASES).hasSizeGreaterThanOrEqualTo(150);
        return AdversarialCorpus.CASES.stream().map(c -> DynamicTest.dynamicTest(c.id(), () -> attempt(c)));
    }

    private void attempt(Case c) throws Exception {
        String seen;
        Outcome outcome;
        StatusRuntimeException error = null;
        String ranTool = c.tool();
        try {
            if (c.tool().startsWith("coded:")) {
                seen = coded(c.tool().substring("coded:".length()));
                ranTool = "process.list";
            } else {
                final ExecuteToolResponse response = call(mallory, c.tool(), substitute(c.json()), acmeAdmin);
                seen = response.getStdout() + response.getStderr() + JsonFormat.printer().print(response.getOutput());
                if (c.tool().equals("shell.run") && !withBubblewrap()) {
                    escapes.add(c.id() + " ran without the jail");
                }
            }
            outcome = Outcome.RAN_CONTAINED;
        } catch (StatusRuntimeException e) {
            error = e;
            final Status.Code code = e.getStatus().getCode();
            assertThat(code).as("%s: %s", c.id(), e.getStatus())
                            .isIn(Status.Code.INVALID_ARGUMENT, Status.Code.PERMISSION_DENIED, Status.Code.NOT_FOUND,
                                  Status.Code.FAILED_PRECONDITION, Status.Code.RESOURCE_EXHAUSTED);
            outcome = code == Status.Code.FAILED_PRECONDITION ? Outcome.REFUSED_BY_JAIL : Outcome.REFUSED_BY_POLICY;
            if (code == Status.Code.PERMISSION_DENIED && openclawAloneRefuses(c)) {
                refusedBy.merge("EVA-OS, and OpenClaw alone too", 1, Integer::sum);
            }
            if (outcome == Outcome.REFUSED_BY_POLICY) {
                refusedBy.merge(code == Status.Code.PERMISSION_DENIED ? "EVA-OS" : code == Status.Code.RESOURCE_EXHAUSTED
                                                                                   ? "quota" : "OpenClaw's checks",
                                1, Integer::sum);
            }
            seen = e.getMessage() + Errors.envelopeCode(e);
        }
        final List<String> problems = new ArrayList<>();
        for (String secret : secrets) {
            if (seen.contains(secret)) {
                problems.add("a secret appeared in the answer");
            }
        }
        final Map<String, String> now = snapshot();
        if (!now.equals(machine)) {
            problems.add("the machine changed: " + difference(machine, now));
            machine = now;
        }
        if (withBubblewrap()) {
            final List<Path> links = escapingLinks();
            links.removeAll(plantedLinks);
            if (!links.isEmpty()) {
                problems.add("escaping links left in the workspace: " + links);
            }
            if (!specialBits().isEmpty()) {
                problems.add("set-id bits or FIFOs left in the workspace: " + specialBits());
            }
        }
        if (!problems.isEmpty()) {
            outcome = Outcome.ESCAPED;
            escapes.add(c.id() + ": " + problems);
        }
        System.out.printf(Locale.ROOT, "case %-70s %-17s %s%n", c.id(), outcome,
                          error == null ? "" : error.getStatus().getCode() + " " + Errors.envelopeCode(error) + " "
                                               + String.valueOf(error.getStatus().getDescription())
                                                       .replace('\n', ' ').substring(0, Math.min(140, String.valueOf(
                                                               error.getStatus().getDescription()).length())));
        counts.merge(outcome, 1, Integer::sum);
        byCategory.computeIfAbsent(c.category(), k -> new ArrayList<>()).add(outcome.name());
        assertThat(problems).as(c.id()).isEmpty();
        if (!withBubblewrap() && ranTool.equals("shell.run")) {
            assertThat(outcome).as("%s must be refused for want of the jail, never run unconfined", c.id())
                               .isEqualTo(Outcome.REFUSED_BY_JAIL);
            assertThat(error).isNotNull();
            assertThat(Errors.metadata(error, "missing_package")).isEqualTo("bubblewrap");
            assertThat(error.getMessage()).contains("apt-get install -y bubblewrap");
            return;
        }
        final Expect expect = !withBubblewrap() && c.id().startsWith("quota-8 ") ? Expect.RAN : c.expect();
        if (expect == Expect.REFUSED) {
            assertThat(outcome).as("%s should be refused", c.id()).isEqualTo(Outcome.REFUSED_BY_POLICY);
        } else if (expect == Expect.RAN) {
            assertThat(outcome).as("%s should run (contained): %s", c.id(), error == null ? "" : error.getStatus())
                               .isEqualTo(Outcome.RAN_CONTAINED);
        }
    }

    /**
     * Whether OpenClaw's own checks, asked directly without EVA-OS, refuse a call EVA-OS refused: the argv
     * grammar and path rules for programs, the workspace rules for files, the host policy for fetches.
     */
    private boolean openclawAloneRefuses(Case c) {
        try {
            final JsonNode args = mapper.readTree(substitute(c.json()));
            switch (c.tool()) {
                case "shell.run" -> {
                    final List<String> argv = new ArrayList<>();
                    args.path("argv").forEach(a -> argv.add(a.asText()));
                    ai.sonia.openclaw.sandbox.CommandPolicy.defaults().check(argv);
                }
                case "http.fetch" -> new ai.sonia.openclaw.sandbox.HostPolicy(List.of(), true, Set.of(
                        stack.evaos.port(), stack.openclaw.port())).check(args.path("url").asText(), "url");
                default -> {
                    if (!args.has("path")) {
                        return false;
                    }
                    final ai.sonia.openclaw.sandbox.Workspace workspace = new ai.sonia.openclaw.sandbox.Workspace(acme);
                    if (workspace.resolve(args.path("path").asText(), "path").equals(workspace.root())) {
                        return true; // the file tools refuse the root themselves
                    }
                }
            }
            return false;
        } catch (DomainException e) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Cases that need more than one call: another user's program running while mallory lists processes. */
    private String coded(String name) throws Exception {
        final boolean otherTenant = name.equals("other-tenant-sleep");
        final String tenant = otherTenant ? "globex" : "acme";
        final OpenClawServiceBlockingStub other = stack.tools(stack.token(tenant, "victim", Role.ROLE_USER));
        final String approver = stack.token(tenant, "root-" + tenant, Role.ROLE_ADMIN);
        final String marker = "3" + (otherTenant ? "1" : "2") + tag.replaceAll("[^0-9]", "").concat("7").substring(0, 1);
        final CompletableFuture<Void> sleeping = CompletableFuture.runAsync(() -> {
            try {
                call(other, "shell.run", "{\"argv\":[\"sleep\",\"" + marker + "\"],\"timeout_seconds\":5}", approver);
            } catch (StatusRuntimeException e) {
                // Without the jail it is refused at once: nothing runs, nothing to see.
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        if (withBubblewrap()) {
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> call(other, "process.list", "{}", approver)
                    .getOutput().getFieldsOrThrow("processes").getListValue().getValuesCount() > 0);
        }
        final ExecuteToolResponse seen = call(mallory, "process.list", "{}", acmeAdmin);
        assertThat(seen.getOutput().getFieldsOrThrow("processes").getListValue().getValuesList())
                .as("mallory sees none of another user's programs").isEmpty();
        sleeping.get();
        return JsonFormat.printer().print(seen.getOutput());
    }

    /** Calls as {@code caller}; whatever asks for approval is approved by {@code approverToken}, then retried. */
    private ExecuteToolResponse call(OpenClawServiceBlockingStub caller, String tool, String json,
                                     String approverToken) throws Exception {
        final Struct.Builder args = Struct.newBuilder();
        JsonFormat.parser().merge(json, args);
        final ExecuteToolRequest request = ExecuteToolRequest.newBuilder().setToolName(tool).setArguments(args)
                                                             .setSessionId("corpus").build();
        try {
            return caller.executeTool(request);
        } catch (StatusRuntimeException e) {
            final String approvalId = Errors.metadata(e, "approval_id");
            if (!"APPROVAL_REQUIRED".equals(Errors.envelopeCode(e)) || approvalId == null) {
                throw e;
            }
            stack.approvals(approverToken).decideApproval(
                    DecideApprovalRequest.newBuilder().setApprovalId(approvalId).setApprove(true).build());
            return caller.executeTool(request.toBuilder().setApprovalId(approvalId).build());
        }
    }

    private String substitute(String json) {
        return json.replace("{OUT}", stack.home.resolve("outside").toString())
                   .replace("{SECRETS}", stack.home.resolve("secrets").toString())
                   .replace("{GLOBEX}", globex.toString())
                   .replace("{HTTP_PORT}", String.valueOf(target.activeLocalPort()))
                   .replace("{HTTP}", "127.0.0.1:" + target.activeLocalPort())
                   .replace("{EVAOS}", String.valueOf(stack.evaos.port()))
                   .replace("{OC}", String.valueOf(stack.openclaw.port()))
                   .replace("{KB700}", "x".repeat(700 << 10));
    }

    /** Hashes of every file outside the attacker's workspace that an escape could read or change. */
    private Map<String, String> snapshot() throws IOException {
        final Map<String, String> hashes = new TreeMap<>();
        final Path home = stack.home;
        for (Path dir : List.of(home.resolve("outside"), home.resolve("secrets"), home.resolve("config"), globex,
                                stack.defaultWorkspace(), home.resolve("staging"))) {
            try (Stream<Path> walk = Files.walk(dir)) {
                for (Path p : walk.toList()) {
                    hashes.put(p.toString(), Files.isSymbolicLink(p) ? "link:" + Files.readSymbolicLink(p)
                                             : Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS) ? "dir"
                                             : Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)
                                               ? sha256(Files.readAllBytes(p)) : "special"); // never open a FIFO
                }
            }
        }
        for (Path dir : List.of(home, home.resolve("data/openclaw/tenants"), Path.of("/tmp"))) {
            try (Stream<Path> list = Files.list(dir)) {
                list.filter(p -> !p.getFileName().toString().startsWith("hsperfdata"))
                    .filter(p -> dir.equals(Path.of("/tmp")) ? p.getFileName().toString().contains("pwned") : true)
                    .forEach(p -> hashes.put("entry:" + p, ""));
            }
        }
        hashes.put("/etc/passwd", sha256(Files.readAllBytes(Path.of("/etc/passwd"))));
        return hashes;
    }

    private List<Path> escapingLinks() throws IOException {
        final List<Path> links = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(acme)) {
            for (Path p : walk.filter(Files::isSymbolicLink).toList()) {
                final Path t = Files.readSymbolicLink(p);
                if (t.isAbsolute() || !p.getParent().resolve(t).normalize().startsWith(acme)) {
                    links.add(p);
                }
            }
        }
        return links;
    }

    private List<Path> specialBits() throws IOException {
        final List<Path> found = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(acme)) {
            for (Path p : walk.filter(p -> !Files.isSymbolicLink(p)).toList()) {
                final int mode = (Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS);
                final boolean other = !Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)
                                      && !Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS);
                if ((mode & 07000) != 0 || other) {
                    found.add(p);
                }
            }
        }
        return found;
    }

    private static String difference(Map<String, String> before, Map<String, String> after) {
        final Map<String, String> diff = new LinkedHashMap<>();
        before.forEach((k, v) -> {
            if (!v.equals(after.get(k))) {
                diff.put(k, after.containsKey(k) ? "changed" : "removed");
            }
        });
        after.keySet().stream().filter(k -> !before.containsKey(k)).forEach(k -> diff.put(k, "added"));
        return diff.toString();
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (Exception e) {
            return fail(e);
        }
    }
}
