package ai.sonia.openclaw.sandbox;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import ai.sonia.runtime.Threads;

/**
 * Runs an argv (already checked by {@link CommandPolicy}) in the {@link Jail}, with a scrubbed
 * environment, standard input, a timeout that kills the whole tree (the jail's pid namespace, the
 * pids cgroup, the process group and every descendant), and capped output: a program that prints
 * past the cap is killed and its output marked truncated.
 *
 * <p>In the jail, programs run in pre-started sandboxes ({@link Zygote}): one per workspace (tenant), write
 * mode and network mode, never shared between them, one call at a time each; started on first use, put back
 * after a call that left it clean, killed and replaced after one that did not (timeout, output cap, a crash),
 * and stopped after {@link #DEFAULT_IDLE} without calls. Unjailed ({@code jail: none}), each program is
 * spawned on its own.
 */
public final class ProcessRunner implements AutoCloseable {

    /** How long an unused sandbox is kept. */
    public static final Duration DEFAULT_IDLE = Duration.ofSeconds(30);

    private final Jail jail;
    private final SandboxLimits limits;
    private final Duration idle;
    private final Map<Long, Running> running = new java.util.concurrent.ConcurrentHashMap<>();
    private final ExecutorService readers = Executors.newCachedThreadPool(Threads.factory("openclaw-process-io"));
    private final Map<Zygote.Key, Deque<Zygote>> sandboxes = new ConcurrentHashMap<>();
    /**
     * Starts the sandboxes. bwrap's {@code --die-with-parent} ({@code PR_SET_PDEATHSIG}) fires when the
     * <em>thread</em> that spawned it ends, so a sandbox that outlives the call must be spawned by threads that
     * live as long as this runner (a fixed pool never retires its threads), not by the caller's.
     */
    private final ExecutorService spawner = Executors.newFixedThreadPool(2, Threads.factory("openclaw-sandbox-start"));
    private final ScheduledExecutorService reaper = Executors.newSingleThreadScheduledExecutor(
            Threads.factory("openclaw-sandbox-reaper"));

    public ProcessRunner(Jail jail, SandboxLimits limits) {
        this(jail, limits, DEFAULT_IDLE);
    }

    /** {@code idle}: how long an unused sandbox is kept before it is stopped. */
    ProcessRunner(Jail jail, SandboxLimits limits, Duration idle) {
        this.jail = jail;
        this.limits = limits;
        this.idle = idle;
        final long period = Math.max(10, idle.toMillis() / 2);
        reaper.scheduleWithFixedDelay(this::stopIdle, period, period, TimeUnit.MILLISECONDS);
    }

    /** The limits applied. */
    public SandboxLimits limits() {
        return limits;
    }

    /** The jail programs run in. */
    public Jail jail() {
        return jail;
    }

    /** The command line {@code argv} would run with, for display and audit. */
    public List<String> commandLine(List<String> argv, Path workspace, Path cwd, boolean network) {
        return jail.command(argv, workspace, cwd, network, false, limits, limits.fileBytes());
    }

    /** Runs {@code argv} read-only, for nobody in particular (tests and benchmarks). */
    public ProcessResult run(List<String> argv, Path workspace, Path cwd, String stdin, Duration timeout,
                             boolean network) {
        return run(argv, workspace, cwd, stdin, timeout, network, true, limits.fileBytes(), "");
    }

    /**
     * Runs {@code argv} in {@code cwd}, a real path inside {@code workspace} (the real root of the caller's
     * workspace: the only directory the jail shows, writable only when {@code writable}), with no file
     * larger than {@code maxFileBytes}, as a process of {@code owner} (what {@link #processes} lists).
     * Throws as {@link Jail#require} does when the jail cannot be made.
     */
    public ProcessResult run(List<String> argv, Path workspace, Path cwd, String stdin, Duration timeout,
                             boolean network, boolean writable, long maxFileBytes, String owner) {
        final long start = System.nanoTime();
        jail.require("running programs");
        if (jail.jailed()) {
            return runInSandbox(argv, workspace, cwd, stdin, timeout, network, writable, maxFileBytes, owner, start);
        }
        // Unjailed (explicit "jail": "none"): prlimit and the scrubbed environment only.
        final List<String> jailCommand = jail.command(argv, workspace, cwd, network, writable, limits, maxFileBytes);
        final Optional<PidsCgroup> cgroup = PidsCgroup.create(limits.maxProcesses());
        final List<String> command = new ArrayList<>();
        if (cgroup.isPresent()) {
            // A fixed launcher, never user input: joins the cgroup, then execs the jail command.
            command.addAll(PidsCgroup.launcher(cgroup.get()));
        }
        command.addAll(jailCommand);
        final ProcessBuilder builder = new ProcessBuilder(command).directory(cwd.toFile());
        final Map<String, String> env = builder.environment();
        env.clear();
        env.put("PATH", Jail.PATH);
        env.put("HOME", cwd.toString());
        env.put("LANG", "C.UTF-8");
        env.put("TMPDIR", cwd.toString());
        final Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            cgroup.ifPresent(PidsCgroup::close);
            throw new UncheckedIOException("cannot start " + argv.get(0) + ": " + e.getMessage(), e);
        }
        final Running running = new Running(owner, List.copyOf(argv), java.time.Instant.now(), process.toHandle());
        this.running.put(process.pid(), running);
        final AtomicBoolean overflow = new AtomicBoolean();
        final Future<byte[]> out = readers.submit(() -> capture(process.getInputStream(), overflow, process));
        final Future<byte[]> err = readers.submit(() -> capture(process.getErrorStream(), overflow, process));
        readers.submit(() -> feed(process.getOutputStream(), stdin));
        String killedBy = "";
        boolean capHit = false;
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                killedBy = "timeout";
            }
            killTree(process, cgroup);
            if (overflow.get() && killedBy.isEmpty()) {
                killedBy = "output_limit";
            }
            process.waitFor(5, TimeUnit.SECONDS);
            final byte[] stdout = out.get(5, TimeUnit.SECONDS);
            final byte[] stderr = err.get(5, TimeUnit.SECONDS);
            capHit = cgroup.map(PidsCgroup::hitProcessCap).orElse(false);
            return new ProcessResult(process.isAlive() ? -1 : process.exitValue(),
                                     new String(stdout, StandardCharsets.UTF_8),
                                     new String(stderr, StandardCharsets.UTF_8), overflow.get(), killedBy, false,
                                     capHit, (System.nanoTime() - start) / 1_000_000);
        } catch (Exception e) {
            killTree(process, cgroup);
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw new IllegalStateException("running " + argv.get(0) + " failed: " + e, e);
        } finally {
            this.running.remove(process.pid());
            cgroup.ifPresent(PidsCgroup::close);
        }
    }

    private ProcessResult runInSandbox(List<String> argv, Path workspace, Path cwd, String stdin, Duration timeout,
                                       boolean network, boolean writable, long maxFileBytes, String owner,
                                       long start) {
        final Zygote zygote = acquire(new Zygote.Key(workspace, writable, network));
        final long pid = zygote.handle().pid();
        running.put(pid, new Running(owner, List.copyOf(argv), java.time.Instant.now(), zygote.handle()));
        try {
            final Zygote.Outcome o = zygote.call(argv, jail.inside(workspace, cwd), stdin,
                                                 Math.min(limits.fileBytes(), maxFileBytes), limits.outputBytes(),
                                                 timeout.toMillis(), readers);
            return new ProcessResult(o.exitCode(), new String(o.stdout(), StandardCharsets.UTF_8),
                                     new String(o.stderr(), StandardCharsets.UTF_8), o.truncated(), o.killedBy(),
                                     true, o.processCapHit(), (System.nanoTime() - start) / 1_000_000);
        } finally {
            running.remove(pid);
            release(zygote);
        }
    }

    /** A clean sandbox of {@code key}: an idle one, or a new one (throws CONFLICT when none can be made). */
    private Zygote acquire(Zygote.Key key) {
        final Deque<Zygote> idle = sandboxes.computeIfAbsent(key, k -> new ConcurrentLinkedDeque<>());
        for (Zygote z = idle.pollFirst(); z != null; z = idle.pollFirst()) {
            if (z.healthy()) {
                return z;
            }
            retire(z);
        }
        final Future<Zygote> started = spawner.submit(() -> Zygote.start(jail, limits, key, readers));
        try {
            return started.get();
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException("cannot start the sandbox: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            // The start goes on: the sandbox joins the pool and is stopped when it idles.
            reaper.execute(() -> {
                try {
                    release(started.get());
                } catch (Exception ignored) {
                    // It did not start: nothing to stop.
                }
            });
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while the sandbox started", e);
        }
    }

    /** After a call: back to the pool when clean, else stopped (off the caller's path). */
    private void release(Zygote zygote) {
        if (zygote.healthy() && !readers.isShutdown()) {
            sandboxes.computeIfAbsent(zygote.key(), k -> new ConcurrentLinkedDeque<>()).addFirst(zygote);
        } else {
            retire(zygote);
        }
    }

    /** Stops a sandbox that serves no more calls, on the reaper (the /proc walk of a kill stays off the call). */
    private void retire(Zygote zygote) {
        try {
            reaper.execute(zygote::close);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            zygote.close();
        }
    }

    /** Stops the sandboxes unused for longer than {@code idle}. */
    private void stopIdle() {
        final long now = System.nanoTime();
        for (Deque<Zygote> idle : sandboxes.values()) {
            for (Zygote z : idle) {
                if ((now - z.idleSince() > this.idle.toNanos() || !z.healthy()) && idle.remove(z)) {
                    z.close();
                }
            }
        }
    }

    /** How many started sandboxes wait for a call now (tests). */
    int idleSandboxes() {
        return sandboxes.values().stream().mapToInt(Deque::size).sum();
    }

    /** A sandboxed program while it runs: whose it is, what it runs, since when. */
    public record Running(String owner, List<String> argv, java.time.Instant started, ProcessHandle handle) {}

    /** The programs of {@code owner} running now (never anyone else's, never the host's). */
    public List<Running> processes(String owner) {
        return running.values().stream().filter(r -> r.owner().equals(owner) && !owner.isEmpty()).toList();
    }

    /** Kills the program and everything it started, by every handle we have on them. */
    private static void killTree(Process process, Optional<PidsCgroup> cgroup) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        if (process.isAlive()) {
            // Only when still alive: Process.destroy also closes our ends of the pipes.
            process.destroyForcibly();
        }
        cgroup.ifPresent(PidsCgroup::killAll);
    }

    private byte[] capture(InputStream in, AtomicBoolean overflow, Process process) {
        final ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        final byte[] chunk = new byte[8192];
        try (in) {
            int n;
            while ((n = in.read(chunk)) >= 0) {
                final int room = limits.outputBytes() - buffer.size();
                if (n > room) {
                    buffer.write(chunk, 0, Math.max(room, 0));
                    overflow.set(true);
                    process.descendants().forEach(ProcessHandle::destroyForcibly);
                    process.destroyForcibly();
                    break;
                }
                buffer.write(chunk, 0, n);
            }
        } catch (IOException e) {
            // The pipe was closed by a kill: keep what was read.
        }
        return buffer.toByteArray();
    }

    private static Void feed(OutputStream stdin, String text) {
        try (stdin) {
            stdin.write(text.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            // The program exited without reading its input: not an error of ours.
        }
        return null;
    }

    /** Stops every sandbox. */
    @Override
    public void close() {
        reaper.shutdownNow();
        spawner.shutdownNow();
        for (Deque<Zygote> idle : sandboxes.values()) {
            for (Zygote z = idle.pollFirst(); z != null; z = idle.pollFirst()) {
                z.close();
            }
        }
        readers.shutdownNow();
    }
}
