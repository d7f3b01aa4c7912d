package ai.sonia.openclaw;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import com.linecorp.armeria.common.annotation.Nullable;

import ai.sonia.openclaw.sandbox.CommandPolicy;
import ai.sonia.openclaw.sandbox.HostPolicy;
import ai.sonia.openclaw.sandbox.Jail;
import ai.sonia.openclaw.sandbox.SandboxLimits;
import ai.sonia.openclaw.sandbox.WorkspaceQuota;
import ai.sonia.runtime.ConfigKey;
import ai.sonia.runtime.ServiceSpec;
import ai.sonia.runtime.Stack;
import ai.sonia.runtime.StackConfig;

/**
 * OpenClaw's settings, from the {@code services.openclaw} section of the stack config ({@link Keys}). Every knob has a safe default: the workspace (tenant "default"'s) is {@code dataDir("openclaw")/workspace},
 * every other tenant's is under {@code dataDir("openclaw")/tenants}; {@code jail} "auto" and "bwrap" both
 * require bubblewrap (found on the service's PATH unless {@code bwrap} names it) and refuse programs when it
 * cannot be made — only an explicit "none" runs them unconfined; 100 MiB per tenant's workspace; no shell;
 * fetches of public addresses only, never loopback, private or link-local ones nor Sonia's own ports
 * unless listed in {@code allowedHosts}.
 */
public record OpenClawConfig(Path workspace, Path tenantWorkspaces, Jail.Mode jail, @Nullable Path bwrap,
                             long quotaBytes, CommandPolicy commandPolicy,
                             List<String> allowedHosts, boolean allowPublic, Set<Integer> soniaPorts,
                             int httpMaxBytes, Duration httpTimeout, SandboxLimits limits) {

    /** The keys of {@code services.openclaw}, each declared once. */
    @ConfigKey("The tools and their sandbox.")
    public record Keys(
            @ConfigKey(value = "The shared workspace root.", shown = "data/openclaw/workspace") String workspace,
            @ConfigKey(value = "Where each tenant's workspace lives.", shown = "data/openclaw/tenants")
            String tenantWorkspaces,
            @ConfigKey(value = "auto or bwrap (both need bubblewrap; without it shell.run is refused), or none "
                               + "(unconfined).", def = "auto") String jail,
            @ConfigKey(value = "The bubblewrap program.", shown = "bwrap on PATH") String bwrap,
            @ConfigKey(value = "Disk quota of each tenant's workspace.", shown = "100 MiB") Long quotaBytes,
            @ConfigKey("shell.run's policy.") Shell shell,
            @ConfigKey("http.fetch's policy.") Http http,
            @ConfigKey("Per tool call.") Limits limits) {}

    public record Shell(
            @ConfigKey(value = "Programs it may run.", shown = "a safe list") List<String> allowedExecutables,
            @ConfigKey(value = "Options refused per program.", element = "Options.")
            Map<String, List<String>> deniedOptions,
            @ConfigKey(value = "Whether sh -c is allowed.", def = "false") boolean allowShell) {}

    public record Http(
            @ConfigKey(value = "Hosts (host or host:port) it may fetch from even when private or loopback.",
                       shown = "none") List<String> allowedHosts,
            @ConfigKey(value = "Whether public addresses may be fetched.", def = "true") boolean allowPublic,
            @ConfigKey(value = "Largest body.", def = "1048576") int maxBytes,
            @ConfigKey(value = "Per fetch.", def = "10") int timeoutSeconds) {}

    public record Limits(@ConfigKey("Wall clock.") Long timeoutSeconds,
                         @ConfigKey("Output kept.") Integer outputBytes,
                         @ConfigKey("Address space.") Long memoryBytes,
                         @ConfigKey("Largest file written.") Long fileBytes,
                         @ConfigKey("Processes.") Integer maxProcesses) {}

    public static OpenClawConfig from(StackConfig config) {
        final Keys keys = config.service("openclaw", Keys.class);
        final Path workspace = keys.workspace() != null ? Path.of(keys.workspace())
                                                        : config.dataDir("openclaw").resolve("workspace");
        final Path tenants = keys.tenantWorkspaces() != null ? Path.of(keys.tenantWorkspaces())
                                                             : config.dataDir("openclaw").resolve("tenants");
        for (Path root : List.of(workspace, tenants)) {
            final Path normal = root.toAbsolutePath().normalize();
            if (config.home().startsWith(normal)) {
                // The jail binds the workspace: one that holds $SONIA_HOME would show its secrets and every tenant.
                throw new IllegalArgumentException("services.openclaw: workspace " + normal + " contains SONIA_HOME "
                                                   + config.home() + " (its secrets would be visible to programs)");
            }
        }
        final String jailName = keys.jail().toUpperCase(Locale.ROOT);
        final Jail.Mode jail;
        try {
            jail = Jail.Mode.valueOf(jailName);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("services.openclaw.jail: " + jailName + " (expected: auto, bwrap, none)",
                                               e);
        }
        final String path = config.env("PATH") != null ? config.env("PATH") : System.getenv("PATH");
        final Path bwrap = keys.bwrap() != null ? Path.of(keys.bwrap()) : Jail.find("bwrap", path);
        final Shell shell = keys.shell();
        // Only programs with a grammar can run: a configured name without one is refused at run time.
        final Set<String> executables = shell.allowedExecutables() != null ? Set.copyOf(shell.allowedExecutables())
                                                                           : CommandPolicy.DEFAULT_EXECUTABLES;
        final Map<String, List<String>> denied = new LinkedHashMap<>(CommandPolicy.DEFAULT_DENIED_OPTIONS);
        if (shell.deniedOptions() != null) {
            denied.putAll(shell.deniedOptions());
        }
        final Http http = keys.http();
        final List<String> hosts = http.allowedHosts() != null ? List.copyOf(http.allowedHosts())
                                                               : HostPolicy.DEFAULT_HOSTS;
        final Set<Integer> ports = new TreeSet<>();
        for (ServiceSpec spec : Stack.SERVICES) {
            ports.add(spec.port());
            ports.add(config.port(spec));
            for (String target : config.targets(spec)) {
                try {
                    ports.add(Integer.parseInt(target.substring(target.lastIndexOf(':') + 1)));
                } catch (NumberFormatException e) {
                    // A target without a numeric port: nothing to protect there.
                }
            }
        }
        ports.remove(0);
        final Limits limits = keys.limits();
        final SandboxLimits defaults = SandboxLimits.defaults();
        return new OpenClawConfig(
                workspace.toAbsolutePath().normalize(), tenants.toAbsolutePath().normalize(), jail, bwrap,
                keys.quotaBytes() != null ? keys.quotaBytes() : WorkspaceQuota.DEFAULT_BYTES,
                new CommandPolicy(executables, denied, shell.allowShell()),
                hosts, http.allowPublic(), Set.copyOf(ports), http.maxBytes(), Duration.ofSeconds(http.timeoutSeconds()),
                new SandboxLimits(Duration.ofSeconds(orElse(limits.timeoutSeconds(),
                                                            defaults.defaultTimeout().toSeconds())),
                                  orElse(limits.outputBytes(), defaults.outputBytes()),
                                  orElse(limits.memoryBytes(), defaults.memoryBytes()),
                                  orElse(limits.fileBytes(), defaults.fileBytes()),
                                  orElse(limits.maxProcesses(), defaults.maxProcesses())));
    }

    private static <T> T orElse(@Nullable T value, T fallback) {
        return value != null ? value : fallback;
    }
}
