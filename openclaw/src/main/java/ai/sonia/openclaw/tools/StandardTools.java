package ai.sonia.openclaw.tools;

import java.util.Map;
import java.util.Optional;
import java.util.Set;

import ai.sonia.memory.v1.MemoryServiceGrpc.MemoryServiceBlockingStub;
import ai.sonia.openclaw.sandbox.CommandPolicy;
import ai.sonia.openclaw.sandbox.HttpFetcher;
import ai.sonia.openclaw.sandbox.ProcessRunner;
import ai.sonia.openclaw.sandbox.WorkspaceQuota;
import ai.sonia.openclaw.v1.CalcEvalArguments;
import ai.sonia.openclaw.v1.FileDeleteArguments;
import ai.sonia.openclaw.v1.FileListArguments;
import ai.sonia.openclaw.v1.FileReadArguments;
import ai.sonia.openclaw.v1.FileSearchArguments;
import ai.sonia.openclaw.v1.FileWriteArguments;
import ai.sonia.openclaw.v1.HttpFetchArguments;
import ai.sonia.openclaw.v1.MemorySearchArguments;
import ai.sonia.openclaw.v1.MemoryStoreArguments;
import ai.sonia.openclaw.v1.ProcessListArguments;
import ai.sonia.openclaw.v1.ShellRunArguments;
import ai.sonia.openclaw.v1.SystemInfoArguments;
import ai.sonia.openclaw.v1.TimeNowArguments;

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
                Map.entry("shell.run", new Handler<>(ShellRunArguments.getDefaultInstance(), shell::run)),
                Map.entry("file.read", new Handler<>(FileReadArguments.getDefaultInstance(), files::read)),
                Map.entry("file.write", new Handler<>(FileWriteArguments.getDefaultInstance(), files::write)),
                Map.entry("file.list", new Handler<>(FileListArguments.getDefaultInstance(), files::list)),
                Map.entry("file.search", new Handler<>(FileSearchArguments.getDefaultInstance(), files::search)),
                Map.entry("file.delete", new Handler<>(FileDeleteArguments.getDefaultInstance(), files::delete)),
                Map.entry("http.fetch", new Handler<>(HttpFetchArguments.getDefaultInstance(), http::fetch)),
                Map.entry("memory.store", new Handler<>(MemoryStoreArguments.getDefaultInstance(), memories::store)),
                Map.entry("memory.search", new Handler<>(MemorySearchArguments.getDefaultInstance(), memories::search)),
                Map.entry("time.now", new Handler<>(TimeNowArguments.getDefaultInstance(), system::timeNow)),
                Map.entry("system.info", new Handler<>(SystemInfoArguments.getDefaultInstance(), system::systemInfo)),
                Map.entry("process.list", new Handler<>(ProcessListArguments.getDefaultInstance(), system::processList)),
                Map.entry("calc.eval", new Handler<>(CalcEvalArguments.getDefaultInstance(), system::calcEval)));
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
