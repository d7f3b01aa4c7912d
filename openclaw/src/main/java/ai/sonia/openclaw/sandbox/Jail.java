package ai.sonia.openclaw.sandbox;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.linecorp.armeria.common.annotation.Nullable;

import ai.sonia.runtime.errors.DomainException;

/**
 * Builds the command line that runs a program in Debian's bubblewrap. Nothing of the host is visible but
 * what is bound: the OS directories ({@code /usr} and its {@code /bin}, {@code /lib} ... links) read-only,
 * a handful of {@code /etc} files programs need (no secrets), fresh {@code /dev}, {@code /proc} of the
 * jail's own pid namespace, a size-capped tmpfs {@code /tmp}, and the caller's one workspace at
 * {@code /workspace} — read-only unless the call may write. So {@code $SONIA_HOME}, its secrets, other
 * tenants' workspaces, {@code /home}, {@code /root} and every path a planted symlink could name do not
 * exist inside. Every namespace is unshared (the network too unless the tool is open-world),
 * capabilities dropped, a new session, killed with its parent, a scrubbed environment, {@code prlimit}
 * caps inside.
 *
 * <p>Fails closed: in mode {@code AUTO} or {@code BWRAP} a machine where bubblewrap is missing or cannot
 * create namespaces runs nothing (CONFLICT, see {@link #require}); only an explicit {@code NONE} runs
 * programs unconfined (prlimit and the scrubbed environment only), and says so in {@code /status}.
 */
public final class Jail {

    private static final Logger logger = LoggerFactory.getLogger(Jail.class);

    /** Where the workspace appears inside the jail. */
    public static final String WORKSPACE = "/workspace";
    /** The Debian package that provides bwrap, and the one command that installs it. */
    public static final String PACKAGE = "bubblewrap";
    public static final String INSTALL = "apt-get install -y bubblewrap";

    static final String PRLIMIT = "/usr/bin/prlimit";
    static final String PATH = "/usr/local/bin:/usr/bin:/bin";
    /** OS directories bound read-only (or re-created as the same symlink, on merged-/usr systems). */
    static final List<String> OS_DIRECTORIES = List.of("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64",
                                                       "/libx32");
    /**
     * The only files of /etc a program sees: the loader cache, the time zone, alternatives (no user list,
     * no host names, no keys).
     */
    static final List<String> ETC_FILES = List.of("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d",
                                                  "/etc/localtime", "/etc/alternatives");
    /** Size of the jail's private /tmp. */
    static final long TMP_BYTES = 16L << 20;

    /** How to isolate: bubblewrap required ({@code AUTO} is the same: fail closed), or explicitly never. */
    public enum Mode { AUTO, BWRAP, NONE }

    private final Mode mode;
    private final @Nullable Path bwrap;
    private final String state;
    private final @Nullable String problem;

    /**
     * {@code bwrap}: the bubblewrap binary found for this service (on its PATH or configured), or null.
     * Probed once, here: a jail that cannot be made is known at start and shown in {@code /status}.
     */
    public Jail(Mode mode, @Nullable Path bwrap) {
        this.mode = mode;
        if (mode == Mode.NONE) {
            this.bwrap = null;
            problem = null;
            state = "none: tool programs run UNCONFINED as the service's user (explicit \"jail\": \"none\")";
            logger.warn("openclaw: jail is none: shell.run programs run unconfined, as the service's user");
            return;
        }
        final String failure = bwrap == null ? "bwrap not found on the service's PATH" : probe(bwrap);
        this.bwrap = failure == null ? bwrap : null;
        problem = failure == null ? null
                                  : "the sandbox cannot be made: " + failure + "; install the Debian package "
                                    + PACKAGE + " (" + INSTALL + ") and restart, or set \"jail\": \"none\" in"
                                    + " services.openclaw to run programs unconfined";
        state = failure == null ? "bubblewrap at " + bwrap : "unavailable: " + failure;
        if (problem != null) {
            logger.warn("openclaw: {}: shell.run is refused", problem);
        }
    }

    /** The executable {@code name} in an absolute directory of {@code path} (PATH syntax), or null. */
    @Nullable
    public static Path find(String name, @Nullable String path) {
        if (path == null) {
            return null;
        }
        for (String dir : path.split(File.pathSeparator)) {
            if (dir.isEmpty() || !dir.startsWith("/")) {
                continue; // never a relative entry ("." would take a bwrap from the working directory)
            }
            final Path candidate = Path.of(dir, name);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return candidate.toAbsolutePath();
            }
        }
        return null;
    }

    /** The configured mode. */
    public Mode mode() {
        return mode;
    }

    /** True when programs run inside bubblewrap. */
    public boolean jailed() {
        return bwrap != null;
    }

    /** True when programs may run at all: jailed, or explicitly unconfined. */
    public boolean usable() {
        return mode == Mode.NONE || bwrap != null;
    }

    /** One line for {@code /status}: where bwrap is, why it is unavailable, or that programs run unconfined. */
    public String state() {
        return state;
    }

    /** Why programs are refused (naming the package to install), or null when they may run. */
    @Nullable
    public String problem() {
        return problem;
    }

    /**
     * When no program may run, throws CONFLICT (FAILED_PRECONDITION: the machine lacks what {@code what} needs;
     * installing bubblewrap fixes it) saying {@code what} is off, with metadata missing_package and install.
     */
    public void require(String what) {
        if (problem != null) {
            throw DomainException.conflict(what + " is off: " + problem).with("missing_package", PACKAGE)
                                 .with("install", INSTALL);
        }
    }

    /**
     * CONFLICT with the same metadata as {@link #require}, for a sandbox that could not be made at run time
     * ({@code why}): the call is refused, never run unjailed.
     */
    public DomainException unavailable(String why) {
        return DomainException.conflict("running programs is off: the sandbox cannot be made: " + why
                                        + "; check the Debian package " + PACKAGE + " (" + INSTALL + ")")
                              .with("missing_package", PACKAGE).with("install", INSTALL);
    }

    /** The path a program sees for {@code path}, a real path inside {@code workspace}. */
    public String inside(Path workspace, Path path) {
        if (!jailed()) {
            return path.toString();
        }
        final String relative = workspace.relativize(path).toString();
        return relative.isEmpty() ? WORKSPACE : WORKSPACE + '/' + relative;
    }

    /**
     * The full command line that runs {@code argv} in {@code cwd}, inside {@code workspace} (its real root),
     * with the workspace writable only when {@code writable}. Throws as {@link #require} does.
     */
    public List<String> command(List<String> argv, Path workspace, Path cwd, boolean network, boolean writable,
                                SandboxLimits limits, long maxFileBytes) {
        require("running programs");
        final List<String> cmd = new ArrayList<>();
        if (jailed()) {
            cmd.add(bwrap.toString());
            for (String dir : OS_DIRECTORIES) {
                final Path p = Path.of(dir);
                if (Files.isSymbolicLink(p)) {
                    try {
                        cmd.addAll(List.of("--symlink", Files.readSymbolicLink(p).toString(), dir));
                    } catch (java.io.IOException e) {
                        // Unreadable link: leave it out.
                    }
                } else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    cmd.addAll(List.of("--ro-bind", dir, dir));
                }
            }
            for (String file : ETC_FILES) {
                cmd.addAll(List.of("--ro-bind-try", file, file));
            }
            cmd.addAll(List.of("--dev", "/dev", "--proc", "/proc",
                               "--size", String.valueOf(TMP_BYTES), "--tmpfs", "/tmp",
                               writable ? "--bind" : "--ro-bind", workspace.toString(), WORKSPACE,
                               "--chdir", inside(workspace, cwd), "--unshare-all"));
            if (network) {
                cmd.add("--share-net");
            }
            cmd.addAll(List.of("--cap-drop", "ALL", "--die-with-parent", "--new-session", "--clearenv",
                               "--setenv", "PATH", PATH, "--setenv", "HOME", WORKSPACE,
                               "--setenv", "LANG", "C.UTF-8", "--setenv", "TMPDIR", "/tmp", "--"));
        }
        if (Files.isExecutable(Path.of(PRLIMIT))) {
            cmd.addAll(List.of(PRLIMIT, "--as=" + limits.memoryBytes(),
                               "--fsize=" + Math.max(0, Math.min(limits.fileBytes(), maxFileBytes)),
                               "--nofile=256", "--core=0", "--"));
        }
        cmd.addAll(argv);
        return cmd;
    }

    /** Null when bwrap works here, else what went wrong. */
    @Nullable
    private static String probe(Path bwrap) {
        try {
            final Process p = new ProcessBuilder(bwrap.toString(), "--ro-bind", "/", "/", "--unshare-all",
                                                 "--die-with-parent", "--new-session", "--", "/bin/true")
                    .redirectErrorStream(true).start();
            p.getOutputStream().close();
            final byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return bwrap + " did not answer within 10 s";
            }
            return p.exitValue() == 0 ? null
                                      : bwrap + " cannot create namespaces here: "
                                        + new String(out, StandardCharsets.UTF_8).trim().toLowerCase(Locale.ROOT);
        } catch (Exception e) {
            return bwrap + " cannot run: " + e.getMessage();
        }
    }
}
