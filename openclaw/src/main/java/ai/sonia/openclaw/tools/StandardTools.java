package ai.sonia.openclaw.tools;

import java.util.Map;
import java.util.Optional;
import java.util.Set;

import ai.sonia.memory.v1.MemoryServiceGrpc.MemoryServiceBlockingStub;
import ai.sonia.openclaw.sandbox.CommandPolicy;
import ai.sonia.openclaw.sandbox.HttpFetcher;
import ai.sonia.openclaw.sandbox.ProcessRunner;
import ai.sonia.openclaw.sandbox.WorkspaceQuota;
import ai.sonia.openclaw.v1.CalcEvalArgs;
import ai.sonia.openclaw.v1.FileDeleteArgs;
import ai.sonia.openclaw.v1.FileListArgs;
import ai.sonia.openclaw.v1.FileReadArgs;
import ai.sonia.openclaw.v1.FileSearchArgs;
import ai.sonia.openclaw.v1.FileWriteArgs;
import ai.sonia.openclaw.v1.HttpFetchArgs;
import ai.sonia.openclaw.v1.MemorySearchArgs;
import ai.sonia.openclaw.v1.MemoryStoreArgs;
import ai.sonia.openclaw.v1.ProcessListArgs;
import ai.sonia.openclaw.v1.ShellRunArgs;
import ai.sonia.openclaw.v1.SystemInfoArgs;
import ai.sonia.openclaw.v1.TimeNowArgs;

/** The implementations of the 13 standard tools, by name. */
public final class StandardTools {

    private final Map<String, Handler<?>> handlers;

    /**
     * Tools that start a process and so need the jail: only {@code shell.run}. The others run in the service
     * itself: file.* through {@link ai.sonia.openclaw.sandbox.Workspace} (real paths checked at use, opened
     * without following links — and with no jail no program runs that could plant a link), http.fetch
     * through the host policy, memory.* as calls for the principal, time.now, calc.eval and system.info as
     * plain Java, process.list over the registry of the caller's own sandboxed programs.
     */
    public static final Set<String> NEED_JAIL = Set.of("shell.run");

    public StandardTools(CommandPolicy policy, ProcessRunner runner, HttpFetcher fetcher,
                         MemoryServiceBlockingStub memory, WorkspaceQuota quota) {
        final FileTools files = new FileTools(quota);
        final SystemTools system = new SystemTools(runner);
        final ShellTool shell = new ShellTool(policy, runner, quota);
        final HttpTool http = new HttpTool(fetcher);
        final MemoryTools memories = new MemoryTools(memory);
        handlers = Map.ofEntries(
                Map.entry("shell.run", new Handler<>(ShellRunArgs.getDefaultInstance(), shell::run)),
                Map.entry("file.read", new Handler<>(FileReadArgs.getDefaultInstance(), files::read)),
                Map.entry("file.write", new Handler<>(FileWriteArgs.getDefaultInstance(), files::write)),
                Map.entry("file.list", new Handler<>(FileListArgs.getDefaultInstance(), files::list)),
                Map.entry("file.search", new Handler<>(FileSearchArgs.getDefaultInstance(), files::search)),
                Map.entry("file.delete", new Handler<>(FileDeleteArgs.getDefaultInstance(), files::delete)),
                Map.entry("http.fetch", new Handler<>(HttpFetchArgs.getDefaultInstance(), http::fetch)),
                Map.entry("memory.store", new Handler<>(MemoryStoreArgs.getDefaultInstance(), memories::store)),
                Map.entry("memory.search", new Handler<>(MemorySearchArgs.getDefaultInstance(), memories::search)),
                Map.entry("time.now", new Handler<>(TimeNowArgs.getDefaultInstance(), system::timeNow)),
                Map.entry("system.info", new Handler<>(SystemInfoArgs.getDefaultInstance(), system::systemInfo)),
                Map.entry("process.list", new Handler<>(ProcessListArgs.getDefaultInstance(), system::processList)),
                Map.entry("calc.eval", new Handler<>(CalcEvalArgs.getDefaultInstance(), system::calcEval)));
    }

    /** The handler of a tool. */
    public Optional<Handler<?>> find(String name) {
        return Optional.ofNullable(handlers.get(name));
    }

    /** True when {@code name} starts a process, so cannot run without the jail (unless jail is none). */
    public boolean needsJail(String name) {
        return NEED_JAIL.contains(name);
    }

    /** Every implemented tool name. */
    public Set<String> names() {
        return handlers.keySet();
    }
}
