package ai.sonia.openclaw;

import ai.sonia.runtime.ConfigSchema;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import com.fasterxml.jackson.databind.JsonNode;

import com.linecorp.armeria.common.annotation.Nullable;

import ai.sonia.openclaw.sandbox.CommandPolicy;
import ai.sonia.openclaw.sandbox.HostPolicy;
import ai.sonia.openclaw.sandbox.Jail;
import ai.sonia.openclaw.sandbox.SandboxLimits;
import ai.sonia.openclaw.sandbox.WorkspaceQuota;
import ai.sonia.runtime.ServiceSpec;
import ai.sonia.runtime.Stack;
import ai.sonia.runtime.StackConfig;

/**
 * OpenClaw's settings, from the {@code services.openclaw} section of the stack config:
 * <pre>{@code
 * { "workspace": "/path", "tenantWorkspaces": "/path", "jail": "auto|bwrap|none", "bwrap": "/usr/bin/bwrap",
 *   "quotaBytes": 104857600,
 *   "shell": { "allowShell": false, "allowedExecutables": ["ls", ...], "deniedOptions": {"sort": ["-u"]} },
 *   "http": { "allowedHosts": ["nas.lan", "127.0.0.1:8080"], "allowPublic": true, "maxBytes": 1048576,
 *             "timeoutSeconds": 10 },
 *   "limits": { "timeoutSeconds": 10, "outputBytes": 1048576, "memoryBytes": 1073741824,
 *               "fileBytes": 67108864, "maxProcesses": 64 } }
 * }</pre>
 * Every knob has a safe default: the workspace (tenant "default"'s) is {@code dataDir("openclaw")/workspace},
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

    /** The keys of {@code services.openclaw}. */
    public static ConfigSchema schema() {
        return ConfigSchema.object("The tools and their sandbox.")
                .field("workspace", ConfigSchema.string("The shared workspace root.", "data/openclaw/workspace"))
                .field("tenantWorkspaces", ConfigSchema.string("Where each tenant's workspace lives.",
                                                               "data/openclaw/tenants"))
                .field("jail", ConfigSchema.string(
                        "auto or bwrap (both need bubblewrap; without it shell.run is refused), or none (unconfined).",
                        "auto"))
                .field("bwrap", ConfigSchema.string("The bubblewrap program.", "bwrap on PATH"))
                .field("quotaBytes", ConfigSchema.integer("Disk quota of each tenant's workspace.", "100 MiB"))
                .field("shell", ConfigSchema.object("shell.run's policy.")
                        .field("allowedExecutables", ConfigSchema.strings("Programs it may run.", "a safe list"))
                        .field("deniedOptions", ConfigSchema.map("Options refused per program.",
                                                                 ConfigSchema.strings("Options.", null)))
                        .field("allowShell", ConfigSchema.bool("Whether sh -c is allowed.", false)))
                .field("http", ConfigSchema.object("http.fetch's policy.")
                        .field("allowedHosts", ConfigSchema.strings(
                                "Hosts (host or host:port) it may fetch from even when private or loopback.", "none"))
                        .field("allowPublic", ConfigSchema.bool("Whether public addresses may be fetched.", true))
                        .field("maxBytes", ConfigSchema.integer("Largest body.", 1 << 20))
                        .field("timeoutSeconds", ConfigSchema.integer("Per fetch.", 10)))
                .field("limits", ConfigSchema.object("Per tool call.")
                        .field("timeoutSeconds", ConfigSchema.integer("Wall clock.", null))
                        .field("outputBytes", ConfigSchema.integer("Output kept.", null))
                        .field("memoryBytes", ConfigSchema.integer("Address space.", null))
                        .field("fileBytes", ConfigSchema.integer("Largest file written.", null))
                        .field("maxProcesses", ConfigSchema.integer("Processes.", null)));
    }

    public static OpenClawConfig from(StackConfig config) {
        final JsonNode section = config.service("openclaw");
        final Path workspace = section.hasNonNull("workspace") ? Path.of(section.get("workspace").asText())
                                                               : config.dataDir("openclaw").resolve("workspace");
        final Path tenants = section.hasNonNull("tenantWorkspaces")
                             ? Path.of(section.get("tenantWorkspaces").asText())
                             : config.dataDir("openclaw").resolve("tenants");
        for (Path root : List.of(workspace, tenants)) {
            final Path normal = root.toAbsolutePath().normalize();
            if (config.home().startsWith(normal)) {
                // The jail binds the workspace: one that holds $SONIA_HOME would show its secrets and every tenant.
                throw new IllegalArgumentException("services.openclaw: workspace " + normal + " contains SONIA_HOME "
                                                   + config.home() + " (its secrets would be visible to programs)");
            }
        }
        final String jailName = section.path("jail").asText("auto").toUpperCase(Locale.ROOT);
        final Jail.Mode jail;
        try {
            jail = Jail.Mode.valueOf(jailName);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("services.openclaw.jail: " + jailName + " (expected: auto, bwrap, none)",
                                               e);
        }
        final String path = config.env("PATH") != null ? config.env("PATH") : System.getenv("PATH");
        final Path bwrap = section.hasNonNull("bwrap") ? Path.of(section.get("bwrap").asText())
                                                       : Jail.find("bwrap", path);
        final JsonNode shell = section.path("shell");
        // Only programs with a grammar can run: a configured name without one is refused at run time.
        final Set<String> executables = shell.has("allowedExecutables") ? new HashSet<>(strings(shell.get(
                "allowedExecutables"))) : CommandPolicy.DEFAULT_EXECUTABLES;
        final Map<String, List<String>> denied = new LinkedHashMap<>(CommandPolicy.DEFAULT_DENIED_OPTIONS);
        shell.path("deniedOptions").fields().forEachRemaining(e -> denied.put(e.getKey(), strings(e.getValue())));
        final JsonNode http = section.path("http");
        final List<String> hosts = http.has("allowedHosts") ? strings(http.get("allowedHosts"))
                                                            : HostPolicy.DEFAULT_HOSTS;
        final Set<Integer> ports = new TreeSet<>();
        for (ServiceSpec spec : Stack.SERVICES) {
            ports.add(spec.port());
            ports.add(config.port(spec));
            final String target = config.target(spec);
            try {
                ports.add(Integer.parseInt(target.substring(target.lastIndexOf(':') + 1)));
            } catch (NumberFormatException e) {
                // A target without a numeric port: nothing to protect there.
            }
        }
        ports.remove(0);
        final JsonNode limits = section.path("limits");
        final SandboxLimits defaults = SandboxLimits.defaults();
        return new OpenClawConfig(
                workspace.toAbsolutePath().normalize(), tenants.toAbsolutePath().normalize(), jail, bwrap,
                section.path("quotaBytes").asLong(WorkspaceQuota.DEFAULT_BYTES),
                new CommandPolicy(executables, denied, shell.path("allowShell").asBoolean(false)),
                hosts, http.path("allowPublic").asBoolean(true), Set.copyOf(ports), http.path("maxBytes").asInt(1 << 20),
                Duration.ofSeconds(http.path("timeoutSeconds").asInt(10)),
                new SandboxLimits(Duration.ofSeconds(limits.path("timeoutSeconds")
                                                            .asLong(defaults.defaultTimeout().toSeconds())),
                                  limits.path("outputBytes").asInt(defaults.outputBytes()),
                                  limits.path("memoryBytes").asLong(defaults.memoryBytes()),
                                  limits.path("fileBytes").asLong(defaults.fileBytes()),
                                  limits.path("maxProcesses").asInt(defaults.maxProcesses())));
    }

    private static List<String> strings(JsonNode array) {
        final List<String> list = new ArrayList<>();
        array.forEach(n -> list.add(n.asText()));
        return List.copyOf(list);
    }
}
