package ai.sonia.openclaw.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import ai.sonia.runtime.errors.DomainException;

/** Real processes in the real bubblewrap jail (and without it, for the same kill and cap guarantees). */
class ProcessRunnerTest {

    private Path home;
    private Workspace workspace;
    private SandboxLimits limits;

    @BeforeEach
    void setUp() throws Exception {
        home = Path.of("target", "runner-" + UUID.randomUUID()).toAbsolutePath();
        workspace = new Workspace(home.resolve("data/openclaw/workspace"));
        Files.writeString(Files.createDirectories(home.resolve("config")).resolve("secret.json"), "{\"k\":\"s3cret\"}");
        limits = new SandboxLimits(Duration.ofSeconds(10), 64 * 1024, 256L << 20, 1L << 20, 32);
    }

    private ProcessRunner runner(Jail.Mode mode) {
        return new ProcessRunner(new Jail(mode, Jail.find("bwrap", System.getenv("PATH"))), limits);
    }

    private static boolean bwrapWorks() {
        ai.sonia.openclaw.TestJail.requireBubblewrap();
        return true;
    }

    @AfterEach
    void noMarkerProcessIsLeft() {
        assertThat(ProcessHandle.allProcesses()
                                .map(p -> p.info().commandLine().orElse(""))
                                .filter(c -> c.contains("sleep 31"))).isEmpty();
    }

    @Test
    void programsRunJailedWithTheWorkspaceWritableAndTheRootReadOnly() throws Exception {
        bwrapWorks();
        try (ProcessRunner runner = runner(Jail.Mode.BWRAP)) {
            System.out.println("jail command line: " + String.join(" ", runner.commandLine(
                    List.of("ls", "-l"), workspace.root(), workspace.root(), false)));
            final ProcessResult ok = runner.run(List.of("sh", "-c", "echo hi > made.txt && cat made.txt"),
                                                workspace.root(), workspace.root(), "", Duration.ofSeconds(10), false);
            assertThat(ok.jailed()).isTrue();
            assertThat(ok.exitCode()).isZero();
            assertThat(ok.stdout()).isEqualTo("hi\n");
            assertThat(workspace.root().resolve("made.txt")).exists();

            final ProcessResult readOnly = runner.run(List.of("touch", "/usr/sonia-escape"), workspace.root(), workspace.root(), "",
                                                      Duration.ofSeconds(10), false);
            assertThat(readOnly.exitCode()).isNotZero();
            assertThat(readOnly.stderr()).containsIgnoringCase("read-only");
            assertThat(Path.of("/usr/sonia-escape")).doesNotExist();

            final ProcessResult hidden = runner.run(List.of("cat", home.resolve("config/secret.json").toString()),
                                                    workspace.root(), workspace.root(), "", Duration.ofSeconds(10), false);
            assertThat(hidden.exitCode()).isNotZero();
            assertThat(hidden.stdout()).doesNotContain("s3cret");

            // A symlink planted in the workspace leads nowhere: only the OS directories are visible.
            java.nio.file.Files.createSymbolicLink(workspace.root().resolve("to-config"), home.resolve("config"));
            final ProcessResult planted = runner.run(List.of("cat", "to-config/secret.json"), workspace.root(), workspace.root(), "",
                                                     Duration.ofSeconds(10), false);
            assertThat(planted.exitCode()).isNotZero();
            assertThat(planted.stdout()).doesNotContain("s3cret");
            final ProcessResult shadow = runner.run(List.of("cat", "/etc/shadow"), workspace.root(), workspace.root(), "",
                                                    Duration.ofSeconds(10), false);
            assertThat(shadow.stdout()).isEmpty();
            final ProcessResult data = runner.run(List.of("ls", "/root", "/home", "/var"), workspace.root(), workspace.root(), "",
                                                  Duration.ofSeconds(10), false);
            assertThat(data.stdout().replaceAll("(?m)^/\\w+:$", "").trim()).isEmpty();

            final ProcessResult net = runner.run(List.of("cat", "/proc/net/dev"), workspace.root(), workspace.root(), "",
                                                 Duration.ofSeconds(10), false);
            assertThat(net.stdout()).contains("lo:").doesNotContain("eth");

            // A pid namespace of its own: only the sandbox's init, its shell and the program itself exist there.
            final ProcessResult pids = runner.run(List.of("ls", "/proc"), workspace.root(), workspace.root(), "",
                                                  Duration.ofSeconds(10), false);
            assertThat(pids.stdout().lines().filter(l -> l.matches("[0-9]+"))).hasSizeLessThanOrEqualTo(3)
                                                                             .contains("1");
        }
    }

    @Test
    void aReadOnlyRunCannotWriteTheWorkspaceAndSeesNothingOfTheHost() throws Exception {
        bwrapWorks();
        Files.writeString(workspace.root().resolve("kept.txt"), "kept");
        try (ProcessRunner runner = runner(Jail.Mode.BWRAP)) {
            final ProcessResult write = runner.run(List.of("sh", "-c", "echo x > new.txt; echo y >> kept.txt; pwd; ls /"),
                                                   workspace.root(), workspace.root(), "", Duration.ofSeconds(10),
                                                   false, false, limits.fileBytes(), "");
            assertThat(write.stderr()).contains("Read-only file system");
            assertThat(workspace.root().resolve("new.txt")).doesNotExist();
            assertThat(workspace.root().resolve("kept.txt")).hasContent("kept");
            assertThat(write.stdout()).startsWith(Jail.WORKSPACE + "\n");
            // Only the OS directories, the jail's own /dev, /proc, /tmp and the workspace exist inside.
            assertThat(write.stdout().lines().skip(1).toList())
                    .isSubsetOf("bin", "dev", "etc", "lib", "lib32", "lib64", "libx32", "proc", "sbin", "tmp", "usr",
                                "workspace");
            final ProcessResult etc = runner.run(List.of("ls", "/etc"), workspace.root(), workspace.root(), "",
                                                 Duration.ofSeconds(10), false, false, limits.fileBytes(), "");
            assertThat(etc.stdout()).doesNotContain("shadow").doesNotContain("passwd").doesNotContain("ssh");
        }
    }

    @Test
    void aWritableRunGetsNoFileLargerThanWhatTheQuotaLeaves() {
        bwrapWorks();
        try (ProcessRunner runner = runner(Jail.Mode.BWRAP)) {
            final ProcessResult r = runner.run(List.of("head", "-c", "50000", "/dev/zero"), workspace.root(),
                                               workspace.root(), "", Duration.ofSeconds(10), false, true, 4096, "");
            assertThat(r.stdout()).hasSize(50000); // stdout is a pipe, not a file: no file limit there
            final ProcessResult file = runner.run(List.of("sh", "-c", "head -c 100000 /dev/zero > big.bin"),
                                                  workspace.root(), workspace.root(), "", Duration.ofSeconds(10), false,
                                                  true, 4096, "");
            assertThat(file.exitCode()).isNotZero();
            assertThat(workspace.root().resolve("big.bin")).hasSize(4096);
        }
    }

    @Test
    void withoutBubblewrapNothingRunsUnlessTheJailIsExplicitlyNone() {
        final Jail missing = new Jail(Jail.Mode.AUTO, null);
        assertThat(missing.usable()).isFalse();
        assertThat(missing.problem()).contains("bubblewrap").contains(Jail.INSTALL);
        try (ProcessRunner runner = new ProcessRunner(missing, limits)) {
            org.assertj.core.api.Assertions.assertThatThrownBy(
                    () -> runner.run(List.of("true"), workspace.root(), workspace.root(), "", Duration.ofSeconds(10),
                                     false)).isInstanceOf(DomainException.class);
        }
        final Jail broken = new Jail(Jail.Mode.BWRAP, Path.of("/bin/false"));
        assertThat(broken.usable()).isFalse();
        assertThat(broken.state()).startsWith("unavailable");
        final Jail none = new Jail(Jail.Mode.NONE, null);
        assertThat(none.usable()).isTrue();
        assertThat(none.jailed()).isFalse();
        assertThat(none.state()).contains("UNCONFINED");
    }

    @ParameterizedTest
    @EnumSource(value = Jail.Mode.class, names = {"BWRAP", "NONE"})
    void environmentIsScrubbedAndLimitsApplied(Jail.Mode mode) {
        assertThat(mode == Jail.Mode.NONE || bwrapWorks()).isTrue();
        try (ProcessRunner runner = runner(mode)) {
            final ProcessResult env = runner.run(List.of("env"), workspace.root(), workspace.root(), "", Duration.ofSeconds(10), false);
            final List<String> names = Arrays.stream(env.stdout().split("\n")).map(l -> l.split("=", 2)[0]).toList();
            assertThat(names).isSubsetOf("PATH", "HOME", "LANG", "TMPDIR", "PWD", "SHLVL", "_");
            final ProcessResult caps = runner.run(List.of("cat", "/proc/self/limits"), workspace.root(), workspace.root(), "",
                                                  Duration.ofSeconds(10), false);
            assertThat(caps.stdout()).containsPattern("Max address space\\s+" + (256L << 20));
            assertThat(caps.stdout()).containsPattern("Max file size\\s+" + (1L << 20));
        }
    }

    @ParameterizedTest
    @EnumSource(value = Jail.Mode.class, names = {"BWRAP", "NONE"})
    void timeoutKillsTheWholeTreeIncludingDetachedGrandchildren(Jail.Mode mode) {
        assertThat(mode == Jail.Mode.NONE || bwrapWorks()).isTrue();
        try (ProcessRunner runner = runner(mode)) {
            final String script = "sleep 31" + ThreadLocalRandom.current().nextInt(100, 999)
                                  + " & setsid sleep 31" + ThreadLocalRandom.current().nextInt(100, 999)
                                  + " & echo started; sleep 319";
            final ProcessResult r = runner.run(List.of("sh", "-c", script), workspace.root(), workspace.root(), "",
                                               Duration.ofSeconds(1), false);
            assertThat(r.timedOut()).isTrue();
            assertThat(r.stdout()).isEqualTo("started\n");
        }
    }

    @ParameterizedTest
    @EnumSource(value = Jail.Mode.class, names = {"BWRAP", "NONE"})
    void aProgramPrintingWithoutEndIsCutAtTheCap(Jail.Mode mode) {
        assertThat(mode == Jail.Mode.NONE || bwrapWorks()).isTrue();
        try (ProcessRunner runner = runner(mode)) {
            final ProcessResult r = runner.run(List.of("head", "-c", "1000000000", "/dev/zero"), workspace.root(), workspace.root(),
                                               "", Duration.ofSeconds(20), false);
            assertThat(r.truncated()).isTrue();
            assertThat(r.killedBy()).isEqualTo("output_limit");
            assertThat(r.stdout().length()).isEqualTo(64 * 1024);
        }
    }

    @Test
    void aForkBombHitsTheProcessCap() {
        bwrapWorks();
        assumeThat(Files.isWritable(PidsCgroup.PARENT.getParent())).as("pids cgroup writable").isTrue();
        try (ProcessRunner runner = runner(Jail.Mode.AUTO)) {
            final ProcessResult r = runner.run(
                    List.of("sh", "-c", "i=0; while [ $i -lt 200 ]; do sleep 31777 & i=$((i+1)); done; wait"),
                    workspace.root(), workspace.root(), "", Duration.ofSeconds(3), false);
            assertThat(r.processCapHit()).isTrue();
        }
    }

    @Test
    void standardInputReachesTheProgram() {
        bwrapWorks();
        try (ProcessRunner runner = runner(Jail.Mode.AUTO)) {
            final ProcessResult r = runner.run(List.of("wc", "-l"), workspace.root(), workspace.root(), "a\nb\nc\n",
                                               Duration.ofSeconds(10), false);
            assertThat(r.stdout().trim()).isEqualTo("3");
        }
    }
}
