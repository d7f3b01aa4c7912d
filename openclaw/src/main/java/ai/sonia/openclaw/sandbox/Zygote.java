package ai.sonia.openclaw.sandbox;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;


/**
 * One pre-started sandbox: a long-lived {@code bwrap} with exactly the mounts, namespaces, environment and
 * {@code prlimit} caps of {@link Jail#command} for one workspace (one tenant), one write mode and one network
 * mode, running {@code /bin/sh} as a small init ({@link #INIT}) that receives one request at a time on its
 * standard input and forks and execs the program inside the same namespaces. Spawning a program then costs
 * a fork and an exec instead of creating namespaces and mounts (see docs/benchmarks/tools.md).
 *
 * <p>Per call, inside: the working directory, the file-size cap (the quota left, rounded down to 512 bytes,
 * {@code ulimit -f}) and standard input (its bytes follow the request line; {@code head -c} gives the program
 * exactly those, and what it leaves unread is drained) are the call's own; the program's standard output and error are the
 * sandbox's, ended by a marker carrying a 128-bit nonce the program never sees. After the program exits, the
 * init kills every other process of the sandbox's pid namespace ({@code kill -9 -1}: everything the call
 * started, detached or not) and waits until none is left before it writes the marker, so nothing of one call
 * outlives it. A call that used {@code /tmp} makes the sandbox retire (the next call gets a fresh tmpfs, as
 * before); a timeout, the output cap, a request the init did not expect or anything unexpected on the
 * streams kills the whole sandbox (its pid namespace and its pids cgroup). One call at a time per sandbox.
 * The init runs from an unreadable copy of {@code /bin/sh}, which makes it non-dumpable: programs cannot
 * reach its memory or file descriptors through {@code /proc} (they can kill it: the sandbox is replaced).
 */
final class Zygote {

    /**
     * The init, a POSIX {@code sh} script (dash on Debian). The first line it reads is a per-sandbox key;
     * every later request must start with it or the init exits. Variables: {@code n} nonce, {@code d}
     * directory, {@code f} file-size cap in 512-byte blocks, {@code i} the byte count of the standard input,
     * which follows the line; the argv is {@code "$@"}. Every string arrives single-quoted by {@link #quote}.
     */
    static final String INIT = String.join("\n",
            "nl='", "'",
            "IFS= read -r k || exit 1",
            "echo ready",
            "while IFS= read -r q; do",
            "  case $q in \"$k \"*) ;; *) exit 1 ;; esac",
            "  n=; d=; f=0; i=0; set --",
            "  eval \"${q#\"$k \"}\"",
            "  [ -n \"$n\" ] && [ $# -gt 0 ] || exit 1",
            "  if [ \"$i\" -gt 0 ]; then",
            // Exactly i bytes of the pipe are the program's input, read to the end whatever the program does.
            "    head -c \"$i\" | { ( cd \"$d\" && unset OLDPWD && ulimit -f \"$f\" && exec \"$@\" ); s=$?;"
            + " cat >/dev/null; exit $s; }",
            "  else",
            "    ( cd \"$d\" && unset OLDPWD && ulimit -f \"$f\" && exec \"$@\" ) </dev/null",
            "  fi",
            "  s=$?",
            // Everything but the namespace's init (1) and this shell: whatever the call left, detached or not.
            "  kill -9 -1 2>/dev/null",
            "  set -- /proc/[0-9]*",
            "  while [ $# -gt 2 ]; do kill -9 -1 2>/dev/null; set -- /proc/[0-9]*; done",
            "  t=0",
            "  for x in /tmp/* /tmp/.[!.]* /tmp/..?*; do [ -e \"$x\" ] || [ -L \"$x\" ] && t=1; done",
            "  printf '%s %s %s\\n' \"$n\" \"$s\" \"$t\"",
            "  printf '%s\\n' \"$n\" >&2",
            "done",
            "");

    private static final long START_TIMEOUT_SECONDS = 10;

    /** Where the init's binary is inside the sandbox (hidden from a plain {@code ls /}). */
    static final String INIT_PATH = "/.sonia-init";

    /** Exit code reported for a program killed with the sandbox (as a SIGKILLed process reports). */
    static final int KILLED = 128 + 9;

    private static final SecureRandom RANDOM = new SecureRandom();

    /** What a sandbox is for: never shared between workspaces (tenants), write modes or network modes. */
    record Key(Path workspace, boolean writable, boolean network) {}

    /** One call's result as the sandbox saw it. */
    record Outcome(int exitCode, byte[] stdout, byte[] stderr, boolean truncated, String killedBy,
                   boolean processCapHit) {}

    private final Key key;
    private final Process process;
    private final Optional<PidsCgroup> cgroup;
    private final String token;
    private final OutputStream requests;
    private final InputStream stdout;
    private final InputStream stderr;
    private volatile boolean healthy = true;
    private volatile long idleSince = System.nanoTime();

    private Zygote(Key key, Process process, Optional<PidsCgroup> cgroup, String token) {
        this.key = key;
        this.process = process;
        this.cgroup = cgroup;
        this.token = token;
        requests = process.getOutputStream();
        stdout = process.getInputStream();
        stderr = process.getErrorStream();
    }

    /**
     * Starts the sandbox for {@code key} and waits (on {@code readers}) until its init answers. Throws CONFLICT as
     * {@link Jail#require} does when bubblewrap cannot make it (never runs anything unjailed).
     */
    static Zygote start(Jail jail, SandboxLimits limits, Key key, ExecutorService readers) {
        final List<String> jailCommand = new ArrayList<>(jail.command(List.of(INIT_PATH, "-c", INIT, "sonia-zygote"),
                                                                      key.workspace(), key.workspace(), key.network(),
                                                                      key.writable(), limits, limits.fileBytes()));
        if (!jail.jailed()) {
            throw new IllegalStateException("a zygote is a bubblewrap sandbox; the jail is " + jail.state());
        }
        // The init is a copy of /bin/sh that nobody inside may read (mode 0111; no one there has
        // CAP_DAC_OVERRIDE): the kernel makes a process that execs an unreadable binary non-dumpable, so no
        // program can open the init's /proc/<pid>/fd, mem or environ (its key and its standard input).
        jailCommand.addAll(1, List.of("--perms", "0111", "--file", "3", INIT_PATH));
        // The namespace's init, the zygote's launcher and its shell count too: the program keeps its budget.
        final Optional<PidsCgroup> cgroup = PidsCgroup.create(limits.maxProcesses() + 1);
        final List<String> command = new ArrayList<>(List.of(
                "/bin/sh", "-c", "[ \"$1\" = - ] || echo $$ > \"$1\" || exit 1; shift; exec \"$@\" 3</bin/sh",
                "sonia-zygote-launch", cgroup.map(c -> c.procsFile().toString()).orElse("-")));
        command.addAll(jailCommand);
        final ProcessBuilder builder = new ProcessBuilder(command).directory(key.workspace().toFile());
        final Map<String, String> env = builder.environment();
        env.clear();
        env.put("PATH", Jail.PATH);
        env.put("LANG", "C.UTF-8");
        final Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            cgroup.ifPresent(PidsCgroup::close);
            throw jail.unavailable("cannot start " + command.get(0) + ": " + e.getMessage());
        }
        final Zygote zygote = new Zygote(key, process, cgroup, nonce());
        final Future<byte[]> ready = readers.submit(() -> zygote.stdout.readNBytes(6));
        try {
            zygote.requests.write((zygote.token + '\n').getBytes(StandardCharsets.US_ASCII));
            zygote.requests.flush();
            if (!Arrays.equals(ready.get(START_TIMEOUT_SECONDS, TimeUnit.SECONDS),
                               "ready\n".getBytes(StandardCharsets.US_ASCII))) {
                throw new IOException("the sandbox did not start");
            }
        } catch (IOException | java.util.concurrent.ExecutionException | TimeoutException e) {
            // bwrap says why on its standard error when it exited (read before the kill closes the stream).
            final String why = zygote.exited() ? zygote.drain(zygote.stderr).trim() : "";
            zygote.close();
            throw jail.unavailable("bubblewrap exited at start" + (why.isEmpty() ? "" : ": " + why));
        } catch (InterruptedException e) {
            zygote.close();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while the sandbox started", e);
        }
        return zygote;
    }

    Key key() {
        return key;
    }

    /** The outer bwrap process (what {@code process.list} counts from). */
    ProcessHandle handle() {
        return process.toHandle();
    }

    /** True while the sandbox can take another call. */
    boolean healthy() {
        return healthy && process.isAlive();
    }

    /** When its last call ended (System.nanoTime). */
    long idleSince() {
        return idleSince;
    }

    /**
     * Runs {@code argv} in {@code directory} (a path inside the sandbox) with {@code stdin}, no file larger
     * than {@code maxFileBytes}, at most {@code outputBytes} per stream and {@code timeoutMillis} of wall time.
     * The streams are read on {@code readers}.
     */
    Outcome call(List<String> argv, String directory, String stdin, long maxFileBytes, int outputBytes,
                 long timeoutMillis, ExecutorService readers) {
        for (String arg : argv) {
            if (arg.indexOf('\0') >= 0) {
                throw new IllegalArgumentException("an argument contains a NUL character");
            }
        }
        final String nonce = nonce();
        final byte[] input = stdin.getBytes(StandardCharsets.UTF_8);
        final StringBuilder line = new StringBuilder(token).append(" n=").append(nonce)
                .append("; d=").append(quote(directory)).append("; f=").append(Math.max(0, maxFileBytes) / 512)
                .append("; i=").append(input.length).append("; set --");
        for (String arg : argv) {
            line.append(' ').append(quote(arg));
        }
        final byte[] head = line.append('\n').toString().getBytes(StandardCharsets.UTF_8);
        final byte[] request = Arrays.copyOf(head, head.length + input.length);
        System.arraycopy(input, 0, request, head.length, input.length);
        final long pidsRefusedBefore = cgroup.map(PidsCgroup::refusedForks).orElse(0L);
        final AtomicBoolean overflow = new AtomicBoolean();
        final byte[] outMarker = nonce.getBytes(StandardCharsets.US_ASCII);
        final byte[] errMarker = (nonce + '\n').getBytes(StandardCharsets.US_ASCII);
        final Future<Capture> out = readers.submit(() -> capture(stdout, outMarker, true, outputBytes, overflow));
        final Future<Capture> err = readers.submit(() -> capture(stderr, errMarker, false, outputBytes, overflow));
        String killedBy = "";
        try {
            requests.write(request);
            requests.flush();
        } catch (IOException e) {
            kill(); // the sandbox died: the readers see its end
        }
        Capture o;
        Capture e;
        try {
            try {
                o = out.get(timeoutMillis, TimeUnit.MILLISECONDS);
            } catch (TimeoutException t) {
                killedBy = "timeout";
                kill();
                o = out.get(5, TimeUnit.SECONDS);
            }
            e = err.get(5, TimeUnit.SECONDS);
        } catch (Exception failure) {
            kill();
            out.cancel(true);
            err.cancel(true);
            if (failure instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw new IllegalStateException("running " + argv.get(0) + " failed: " + failure, failure);
        } finally {
            idleSince = System.nanoTime();
        }
        if (overflow.get() && killedBy.isEmpty()) {
            killedBy = "output_limit";
        }
        int exitCode = killedBy.isEmpty() && !overflow.get() ? -1 : KILLED;
        if (o.marked() && e.marked() && killedBy.isEmpty()) {
            // "<status> <tmp used>"
            final String[] tail = o.tail().trim().split(" ");
            exitCode = Integer.parseInt(tail[0]);
            if (!"0".equals(tail[1])) {
                healthy = false; // the call used /tmp: the next call gets a fresh sandbox
            }
        } else {
            // Killed, or the sandbox ended or answered out of turn: it never serves another call.
            kill();
        }
        final boolean capHit = cgroup.map(PidsCgroup::refusedForks).orElse(0L) > pidsRefusedBefore;
        return new Outcome(exitCode, o.bytes(), e.bytes(), overflow.get(), killedBy, capHit);
    }

    /** Kills the sandbox and everything in it; it serves no other call. */
    void kill() {
        healthy = false;
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        cgroup.ifPresent(PidsCgroup::killAll);
    }

    /**
     * Stops the sandbox and frees its cgroup, once its last member is gone (the namespace's processes die a
     * moment after bwrap; a cgroup with members cannot be removed). Runs off the calls' path.
     */
    void close() {
        kill();
        try {
            process.waitFor(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        cgroup.ifPresent(c -> {
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
            while (!c.members().isEmpty() && System.nanoTime() < deadline) {
                c.killAll();
                java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
            }
            c.close();
        });
    }

    /** What one stream carried for one call: the program's bytes, and what followed the marker. */
    private record Capture(byte[] bytes, boolean marked, String tail) {}

    private static final java.util.regex.Pattern STATUS = java.util.regex.Pattern.compile(" [0-9]{1,3} [01]\n");

    /**
     * Reads {@code in} until {@code marker} (the program's bytes are what precede it; on stdout, when
     * {@code statusLine}, the status line follows it), the end of the stream, or past {@code cap} bytes (then
     * kills the sandbox). Anything else after the marker is not this protocol: reported unmarked.
     */
    private Capture capture(InputStream in, byte[] marker, boolean statusLine, int cap, AtomicBoolean overflow) {
        byte[] buf = new byte[8192];
        int len = 0;
        int at = -1;
        try {
            while (true) {
                if (len == buf.length) {
                    buf = Arrays.copyOf(buf, buf.length * 2);
                }
                final int n = in.read(buf, len, buf.length - len);
                if (n < 0) {
                    break;
                }
                final int from = Math.max(0, len - marker.length + 1);
                len += n;
                if (at < 0) {
                    at = indexOf(buf, len, marker, from);
                }
                if (at >= 0) {
                    final int tailStart = at + marker.length;
                    if (!statusLine || buf[len - 1] == '\n') {
                        final String tail = new String(buf, tailStart, len - tailStart, StandardCharsets.US_ASCII);
                        final boolean valid = statusLine ? STATUS.matcher(tail).matches() : tail.isEmpty();
                        if (at > cap) {
                            overflow.set(true);
                        }
                        return new Capture(Arrays.copyOf(buf, Math.min(at, cap)), valid, tail);
                    }
                } else if (len > cap + marker.length) {
                    overflow.set(true);
                    kill();
                    break;
                }
            }
        } catch (IOException e) {
            // The sandbox was killed: keep what was read.
        }
        final int kept = at >= 0 ? at : len;
        if (kept > cap) {
            overflow.set(true);
        }
        return new Capture(Arrays.copyOf(buf, Math.min(kept, cap)), false, "");
    }

    private static int indexOf(byte[] haystack, int length, byte[] needle, int from) {
        outer:
        for (int i = from; i <= length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    private boolean exited() {
        try {
            return process.waitFor(1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private String drain(InputStream in) {
        try {
            return new String(in.readNBytes(4096), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    private static String nonce() {
        final byte[] bytes = new byte[16];
        RANDOM.nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }

    /**
     * {@code s} as one POSIX shell word that {@code eval} turns back into exactly {@code s}, on one line:
     * single-quoted, a quote as {@code '\''}, a newline as {@code '"$nl"'} (the init's {@code nl}).
     */
    static String quote(String s) {
        return '\'' + s.replace("'", "'\\''").replace("\n", "'\"$nl\"'") + '\'';
    }

}
