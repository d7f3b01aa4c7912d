package ai.sonia.openclaw;

import java.util.TreeSet;
import java.util.function.Consumer;

import ai.sonia.evaos.v1.EvaOsServiceGrpc;
import ai.sonia.memory.v1.MemoryServiceGrpc;
import ai.sonia.openclaw.catalog.ToolCatalog;
import ai.sonia.openclaw.client.EvaOsGate;
import ai.sonia.openclaw.domain.AuditLog;
import ai.sonia.openclaw.domain.ToolExecutor;
import ai.sonia.openclaw.grpc.OpenClawServiceImpl;
import ai.sonia.openclaw.sandbox.HostPolicy;
import ai.sonia.openclaw.sandbox.HttpFetcher;
import ai.sonia.openclaw.sandbox.Jail;
import ai.sonia.openclaw.sandbox.ProcessRunner;
import ai.sonia.openclaw.sandbox.WorkspaceQuota;
import ai.sonia.openclaw.sandbox.Workspaces;
import ai.sonia.openclaw.store.PostgresAuditLog;
import ai.sonia.openclaw.store.SqliteAuditLog;
import ai.sonia.openclaw.tools.StandardTools;
import ai.sonia.runtime.ConfigSchema;
import ai.sonia.runtime.ServiceModule;
import ai.sonia.runtime.ServiceSpec;
import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.Stack;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.client.SoniaChannels;
import ai.sonia.runtime.store.Postgres;
import io.grpc.ManagedChannel;

/** Wires the openclaw service: the tool catalog and sandboxed execution. */
public final class OpenClawModule implements ServiceModule {

    @Override
    public ConfigSchema configSchema() {
        return ConfigSchema.of(OpenClawConfig.Keys.class);
    }

    @Override
    public ServiceSpec spec() {
        return Stack.OPENCLAW;
    }

    @Override
    public SoniaServer newServer(StackConfig config) {
        final OpenClawConfig settings = OpenClawConfig.from(config);
        final SoniaServer.Builder server = SoniaServer.builder(spec(), config);
        // Tool series on /metrics, from the audit record every call leaves.
        final Consumer<AuditLog.Entry> metrics = entry -> io.micrometer.core.instrument.Timer
                .builder("sonia.openclaw.tool.calls").description("Tool calls by tool, EVA-OS decision and outcome")
                .tags("tool", entry.tool(), "decision", entry.decision(), "outcome", entry.outcome())
                .register(server.meterRegistry()).record(java.time.Duration.ofMillis(entry.durationMs()));
        // store.engine: the audit in SQLite here, or on the PostgreSQL every replica shares (fails closed).
        final Postgres.Settings postgres = Postgres.from(config);
        final AuditLog audit = postgres == null
                               ? new SqliteAuditLog(config.dataDir("openclaw").resolve("audit.db")).onAppend(metrics)
                               : PostgresAuditLog.open(postgres).onAppend(metrics);
        final Workspaces workspaces = new Workspaces(settings.workspace(), settings.tenantWorkspaces());
        final Jail jail = new Jail(settings.jail(), settings.bwrap());
        final ProcessRunner runner = new ProcessRunner(jail, settings.limits());
        final HttpFetcher fetcher = new HttpFetcher(new HostPolicy(settings.allowedHosts(), settings.allowPublic(),
                                                                   settings.soniaPorts()),
                                                    settings.httpMaxBytes(), settings.httpTimeout());
        final ManagedChannel memory = SoniaChannels.forService(config, spec(), Stack.MEMORY);
        final ManagedChannel evaos = SoniaChannels.forService(config, spec(), Stack.EVAOS);
        final StandardTools tools = new StandardTools(settings.commandPolicy(), runner, fetcher,
                                                      MemoryServiceGrpc.newBlockingStub(memory),
                                                      new WorkspaceQuota(settings.quotaBytes()));
        final ToolExecutor executor = new ToolExecutor(tools, jail, workspaces,
                                                       new EvaOsGate(EvaOsServiceGrpc.newBlockingStub(evaos)), audit);
        return server
                          .addService(new OpenClawServiceImpl(ToolCatalog.standard(), executor))
                          .useBlockingTaskExecutor(true)
                          .dependency(Stack.MEMORY)
                          // Every tool call needs EVA-OS's decision (fails closed without it).
                          .requiredDependency(Stack.EVAOS)
                          .configSummary("store", postgres == null ? "sqlite" : postgres.toString())
                          .configSummary("workspace", workspaces.defaultWorkspace().root())
                          .configSummary("tenant_workspaces", settings.tenantWorkspaces())
                          .configSummary("jail", settings.jail().name().toLowerCase(java.util.Locale.ROOT))
                          .configSummary("jail_state", jail.state())
                          .configSummary("tools_off", jail.usable() ? "" : String.join(",", new TreeSet<>(
                                  StandardTools.NEED_JAIL)))
                          .configSummary("tools_off_reason", jail.usable() ? "" : jail.problem())
                          .configSummary("warning", jail.mode() == Jail.Mode.NONE
                                                    ? "jail is none: shell.run programs run UNCONFINED as the"
                                                      + " service's user; install bubblewrap ("
                                                      + Jail.INSTALL + ") and remove \"jail\": \"none\""
                                                    : jail.usable() ? "" : "shell.run is off: " + jail.problem())
                          .configSummary("quota_bytes", settings.quotaBytes())
                          .configSummary("allow_shell", settings.commandPolicy().allowShell())
                          .configSummary("allowed_hosts", settings.allowedHosts())
                          .configSummary("allow_public_hosts", settings.allowPublic())
                          .closeOnStop(runner)
                          .closeOnStop(() -> SoniaChannels.close(memory))
                          .closeOnStop(() -> SoniaChannels.close(evaos))
                          .closeOnStop(audit)
                          .build();
    }
}
