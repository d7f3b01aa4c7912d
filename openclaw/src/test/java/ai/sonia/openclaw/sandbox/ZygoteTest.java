package ai.sonia.openclaw.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import ai.sonia.openclaw.TestJail;
import ai.sonia.runtime.errors.DomainException;

/**
 * The pre-started sandboxes ({@link Zygote}) behind {@link ProcessRunner}, with the real bubblewrap: what one
 * call leaves never reaches the next, tenants never share one, a dead one is replaced, a sandbox that cannot
 * be made refuses the call (never runs it unjailed), and unused ones are stopped.
 */
class ZygoteTest {

    private static final Duration TEN = Duration.ofSeconds(10);

    private static Path home;
    private static Workspace tenantA;
    private static Workspace tenantB;
    private static ProcessRunner runner;

    @BeforeAll
    static void setUp() throws Exception {
        if (!TestJail.works()) {
            return; // each test skips itself (needsTheJail)
        }
        home = Path.of("target", "zygote-" + UUID.randomUUID()).toAbsolutePath();
        tenantA = new Workspace(home.resolve("tenants/a"));
        tenantB = new Workspace(home.resolve("tenants/b"));
        Files.writeString(tenantA.root().resolve("a.txt"), "A");
        Files.writeString(tenantB.root().resolve("b.txt"), "B");
        runner = new ProcessRunner(new Jail(Jail.Mode.BWRAP, Jail.find("bwrap", System.getenv("PATH"))),
                                   new SandboxLimits(TEN, 64 * 1024, 256L << 20, 1L << 20, 32));
    }

    /** Each test is reported skipped, with the reason, when bubblewrap is missing (see {@link TestJail}). */
    @BeforeEach
    void needsTheJail() {
        TestJail.requireBubblewrap();
    }

    @AfterAll
    static void tearDown() {
        if (runner != null) {
            runner.close();
            await().atMost(Duration.ofSeconds(10)).until(() -> sandboxProcesses().isEmpty());
        }
    }

    private static ProcessResult run(Workspace ws, String stdin, String... argv) {
        return runner.run(List.of(argv), ws.root(), ws.root(), stdin, TEN, false);
    }

    /** The bwrap processes of this JVM's sandboxes. */
    private static List<ProcessHandle> sandboxProcesses() {
        return ProcessHandle.current().descendants()
                            .filter(p -> p.info().commandLine().orElse("").contains("sonia-zygote")).toList();
    }

    @Test
    void argumentsAndStandardInputArriveByteForByte() {
        final List<String> nasty = List.of("it's", "a b", "x\ny", "$HOME", "`id`", "\\n", "\\c", "", "'\"'", "-e",
                                           "%s%b", "é✓", "\r\t", ";exit 1;");
        final List<String> argv = new ArrayList<>(List.of("sh", "-c", "for a; do printf '[%s]' \"$a\"; done", "x"));
        argv.addAll(nasty);
        final ProcessResult r = run(tenantA, "", argv.toArray(String[]::new));
        assertThat(r.exitCode()).isZero();
        final StringBuilder expected = new StringBuilder();
        nasty.forEach(a -> expected.append('[').append(a).append(']'));
        assertThat(r.stdout()).isEqualTo(expected.toString());

        final String stdin = "line one\nit's \\c \\0101 %s\0after NUL\né✓\n\n";
        assertThat(run(tenantA, stdin, "cat").stdout()).isEqualTo(stdin);
        assertThat(run(tenantA, "", "cat").stdout()).isEmpty();
        // Input a program leaves unread, or that never reaches it (its directory is gone), is not taken for the
        // next request: the same sandbox answers the next call as usual.
        final String big = "x".repeat(200_000);
        final List<Long> sandboxes = sandboxProcesses().stream().map(ProcessHandle::pid).toList();
        assertThat(run(tenantA, big, "true").exitCode()).isZero();
        assertThat(runner.run(List.of("cat"), tenantA.root(), tenantA.root().resolve("gone"), big, TEN, false)
                         .stderr()).contains("can't cd");
        assertThat(run(tenantA, big, "wc", "-c").stdout().trim()).isEqualTo("200000");
        assertThat(run(tenantA, "", "ls").stdout()).isEqualTo("a.txt\n");
        assertThat(sandboxProcesses().stream().map(ProcessHandle::pid).toList()).isEqualTo(sandboxes);
    }

    @Test
    void nothingOfOneCallReachesTheNext() {
        final String marker = "sleep 31" + ThreadLocalRandom.current().nextInt(100, 999);
        final ProcessResult first = run(tenantA, "", "sh", "-c", marker + " & setsid " + marker + " & echo left");
        assertThat(first.stdout()).as(first.toString()).isEqualTo("left\n");
        assertThat(ProcessHandle.allProcesses().map(p -> p.info().commandLine().orElse(""))
                                .filter(c -> c.contains(marker))).isEmpty();
        // The next call sees no process of the first: only the jail's init, the sandbox's shell and itself.
        assertThat(run(tenantA, "", "ls", "/proc").stdout().lines().filter(l -> l.matches("[0-9]+")))
                .hasSize(3).contains("1", "2");
        // A call that used /tmp leaves it to nobody: the next one gets a fresh tmpfs.
        assertThat(run(tenantA, "", "sh", "-c", "echo x > /tmp/left; ls /tmp").stdout()).isEqualTo("left\n");
        assertThat(run(tenantA, "", "ls", "-A", "/tmp").stdout()).isEmpty();
    }

    @Test
    void programsCannotReachTheInitThroughProc() {
        // pid 2 is the sandbox's shell: its standard input (the requests), memory and environment are closed to
        // the programs it runs.
        final ProcessResult r = run(tenantA, "", "sh", "-c",
                                    "cat /proc/2/fd/0; cat /proc/2/environ; head -c 1 /proc/2/mem");
        assertThat(r.stdout()).isEmpty();
        assertThat(r.stderr().lines().filter(l -> l.contains("Permission denied"))).hasSize(3);
        assertThat(run(tenantA, "", "ls").stdout()).isEqualTo("a.txt\n");
    }

    @Test
    void tenantsNeverShareASandbox() {
        for (int i = 0; i < 3; i++) {
            assertThat(run(tenantA, "", "ls").stdout()).isEqualTo("a.txt\n");
            assertThat(run(tenantB, "", "ls").stdout()).isEqualTo("b.txt\n");
        }
        // Concurrent calls of one tenant each get a sandbox of their own.
        final List<CompletableFuture<ProcessResult>> calls = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            final String n = String.valueOf(i);
            calls.add(CompletableFuture.supplyAsync(() -> run(tenantA, n, "cat")));
        }
        for (int i = 0; i < 4; i++) {
            assertThat(calls.get(i).join().stdout()).isEqualTo(String.valueOf(i));
        }
    }

    @Test
    void aKilledSandboxIsReplaced() {
        assertThat(run(tenantB, "", "true").exitCode()).isZero();
        // From inside: the program kills the sandbox's shell.
        final ProcessResult killer = run(tenantB, "", "sh", "-c", "kill -9 2");
        assertThat(killer.exitCode()).isNotZero();
        assertThat(run(tenantB, "", "ls").stdout()).isEqualTo("b.txt\n");
        // From outside: every sandbox process is killed while idle.
        final List<ProcessHandle> sandboxes = sandboxProcesses();
        sandboxes.forEach(ProcessHandle::destroyForcibly);
        await().atMost(Duration.ofSeconds(10)).until(() -> sandboxes.stream().noneMatch(ProcessHandle::isAlive));
        assertThat(run(tenantB, "", "ls").stdout()).isEqualTo("b.txt\n");
    }

    @Test
    void aSandboxThatCannotBeMadeRefusesTheCallAndRunsNothing() throws Exception {
        // Passes the start-up probe (bwrap ... /bin/true), then fails like a machine that lost its namespaces.
        final Path fake = Files.createDirectories(home.resolve("bin")).resolve("bwrap");
        Files.writeString(fake, "#!/bin/sh\ncase \"$*\" in *' -- /bin/true') exec /usr/bin/bwrap \"$@\" ;; esac\n"
                                + "echo 'bwrap: No permissions to create new namespace' >&2\nexit 1\n");
        Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwx------"));
        final Jail jail = new Jail(Jail.Mode.BWRAP, fake);
        assertThat(jail.jailed()).isTrue();
        try (ProcessRunner broken = new ProcessRunner(jail, SandboxLimits.defaults())) {
            assertThatThrownBy(() -> broken.run(List.of("touch", "ran"), tenantA.root(), tenantA.root(), "", TEN,
                                                false, true, 1 << 20, ""))
                    .isInstanceOfSatisfying(DomainException.class, e -> assertThat(e.getMessage())
                            .contains("sandbox cannot be made").contains("No permissions"));
        }
        assertThat(tenantA.root().resolve("ran")).doesNotExist();
    }

    @Test
    void unusedSandboxesAreStopped() {
        try (ProcessRunner shortLived = new ProcessRunner(runner.jail(), runner.limits(), Duration.ofMillis(200))) {
            final Workspace ws = new Workspace(home.resolve("tenants/idle"));
            assertThat(shortLived.run(List.of("true"), ws.root(), ws.root(), "", TEN, false).exitCode()).isZero();
            assertThat(shortLived.idleSandboxes()).isEqualTo(1);
            await().atMost(Duration.ofSeconds(10)).until(() -> shortLived.idleSandboxes() == 0);
        }
    }
}
