package ai.sonia.openclaw.sandbox;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.linecorp.armeria.common.annotation.Nullable;

/**
 * Builds the command line that runs a program in Debian's bubblewrap: the root bound read-only with
 * every non-OS top-level directory and the Sonia home hidden under tmpfs (every tenant's workspace with
 * them), the one workspace of the call bound writable, every namespace unshared (the network
 * too unless the tool is open-world), capabilities dropped, a new session, killed with its parent, a
 * scrubbed environment, and {@code prlimit} caps inside. Without bwrap it builds the same minus the
 * namespaces (prlimit and the scrubbed environment stay).
 */
public final class Jail {

    private static final Logger logger = LoggerFactory.getLogger(Jail.class);

    static final String BWRAP = "/usr/bin/bwrap";
    static final String PRLIMIT = "/usr/bin/prlimit";
    static final String PATH = "/usr/local/bin:/usr/bin:/bin";
    /** Secrets of /etc that the jail still shows otherwise (the jail's uid 0 owns them). */
    static final List<String> SECRET_FILES = List.of("/etc/shadow", "/etc/gshadow", "/etc/shadow-", "/etc/gshadow-",
                                                     "/etc/sudoers", "/etc/machine-id");
    static final List<String> SECRET_DIRECTORIES = List.of("/etc/ssh", "/etc/ssl/private", "/etc/sudoers.d");
    /** What programs need to run: binaries, libraries, configuration, devices, kernel views. */
    static final Set<String> OS_DIRECTORIES = Set.of("usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc",
                                                     "dev", "proc", "sys", "tmp");

    /** How to isolate: bubblewrap when it works here, or demand it, or never. */
    public enum Mode { AUTO, BWRAP, NONE }

    private final Mode mode;
    private final List<Path> hidden;
    private volatile @Nullable Boolean bwrapWorks;

    /** {@code hidden}: directories shown empty in the jail (the home, every workspace) unless bound again. */
    public Jail(Mode mode, List<Path> hidden) {
        this.mode = mode;
        this.hidden = List.copyOf(hidden);
    }

    /** True when programs run inside bubblewrap. Probed once, lazily (never at start-up). */
    public boolean jailed() {
        if (mode == Mode.NONE) {
            return false;
        }
        Boolean works = bwrapWorks;
        if (works == null) {
            works = probe();
            bwrapWorks = works;
            if (!works && mode == Mode.BWRAP) {
                throw new IllegalStateException("bubblewrap is required (sandbox.jail=bwrap) but does not work here");
            }
        }
        return works;
    }

    /** The full command line that runs {@code argv} in {@code cwd}, inside {@code workspace} (its real root). */
    public List<String> command(List<String> argv, Path workspace, Path cwd, boolean network, SandboxLimits limits) {
        final List<String> cmd = new ArrayList<>();
        if (jailed()) {
            cmd.addAll(List.of(BWRAP, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"));
            for (Path top : topLevelData()) {
                cmd.addAll(List.of("--tmpfs", top.toString()));
            }
            for (String secret : SECRET_FILES) {
                if (Files.isRegularFile(Path.of(secret), LinkOption.NOFOLLOW_LINKS)) {
                    cmd.addAll(List.of("--ro-bind", "/dev/null", secret));
                }
            }
            for (String secret : SECRET_DIRECTORIES) {
                if (Files.isDirectory(Path.of(secret), LinkOption.NOFOLLOW_LINKS)) {
                    cmd.addAll(List.of("--tmpfs", secret));
                }
            }
            for (Path h : hidden) {
                // Hidden first, then the call's own workspace bound back on top.
                if (!h.equals(workspace) && Files.isDirectory(h)) {
                    cmd.addAll(List.of("--tmpfs", h.toString()));
                }
            }
            cmd.addAll(List.of("--bind", workspace.toString(), workspace.toString(), "--chdir", cwd.toString(),
                               "--unshare-all"));
            if (network) {
                cmd.add("--share-net");
            }
            cmd.addAll(List.of("--cap-drop", "ALL", "--die-with-parent", "--new-session", "--clearenv",
                               "--setenv", "PATH", PATH, "--setenv", "HOME", workspace.toString(),
                               "--setenv", "LANG", "C.UTF-8", "--setenv", "TMPDIR", "/tmp", "--"));
        }
        if (Files.isExecutable(Path.of(PRLIMIT))) {
            cmd.addAll(List.of(PRLIMIT, "--as=" + limits.memoryBytes(), "--fsize=" + limits.fileBytes(),
                               "--nofile=256", "--core=0", "--"));
        }
        cmd.addAll(argv);
        return cmd;
    }

    /**
     * Top-level directories that hold data rather than the operating system (/home, /root, /var, /srv,
     * /opt, /work ...): hidden under empty tmpfs mounts, so a symlink planted in the workspace shows
     * nothing of them. Only the OS directories stay visible, read-only.
     */
    static List<Path> topLevelData() {
        try (Stream<Path> entries = Files.list(Path.of("/"))) {
            return entries.filter(p -> Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS))
                          .filter(p -> !OS_DIRECTORIES.contains(p.getFileName().toString()))
                          .sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list /", e);
        }
    }

    private static boolean probe() {
        if (!Files.isExecutable(Path.of(BWRAP))) {
            logger.warn("bubblewrap not found at {}: programs run without namespaces", BWRAP);
            return false;
        }
        try {
            final Process p = new ProcessBuilder(BWRAP, "--ro-bind", "/", "/", "--unshare-all", "--die-with-parent",
                                                 "--new-session", "--", "/bin/true")
                    .redirectErrorStream(true).start();
            p.getOutputStream().close();
            final byte[] out = p.getInputStream().readAllBytes();
            final boolean ok = p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
            if (!ok) {
                logger.warn("bubblewrap cannot create namespaces here: {}", new String(out).trim());
            }
            return ok;
        } catch (Exception e) {
            logger.warn("bubblewrap probe failed", e);
            return false;
        }
    }
}
