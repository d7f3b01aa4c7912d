package ai.sonia.openclaw.sandbox;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.linecorp.armeria.common.annotation.Nullable;

/**
 * Builds the command line that runs a program in Debian's bubblewrap: the root bound read-only, the
 * workspace bound writable, the Sonia home hidden under a tmpfs, every namespace unshared (the network
 * too unless the tool is open-world), capabilities dropped, a new session, killed with its parent, a
 * scrubbed environment, and {@code prlimit} caps inside. Without bwrap it builds the same minus the
 * namespaces (prlimit and the scrubbed environment stay).
 */
public final class Jail {

    private static final Logger logger = LoggerFactory.getLogger(Jail.class);

    static final String BWRAP = "/usr/bin/bwrap";
    static final String PRLIMIT = "/usr/bin/prlimit";
    static final String PATH = "/usr/local/bin:/usr/bin:/bin";

    /** How to isolate: bubblewrap when it works here, or demand it, or never. */
    public enum Mode { AUTO, BWRAP, NONE }

    private final Mode mode;
    private final Path workspace;
    private final List<Path> hidden;
    private volatile @Nullable Boolean bwrapWorks;

    public Jail(Mode mode, Path workspace, List<Path> hidden) {
        this.mode = mode;
        this.workspace = workspace;
        this.hidden = hidden.stream().filter(h -> !h.equals(workspace)).toList();
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

    /** The full command line that runs {@code argv} in {@code cwd}. */
    public List<String> command(List<String> argv, Path cwd, boolean network, SandboxLimits limits) {
        final List<String> cmd = new ArrayList<>();
        if (jailed()) {
            cmd.addAll(List.of(BWRAP, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"));
            for (Path h : hidden) {
                if (Files.isDirectory(h)) {
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
