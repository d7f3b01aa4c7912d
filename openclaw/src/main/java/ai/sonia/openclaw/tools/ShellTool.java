package ai.sonia.openclaw.tools;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import ai.sonia.openclaw.catalog.InvalidArgumentsException;
import ai.sonia.openclaw.sandbox.CommandPolicy;
import ai.sonia.openclaw.sandbox.ProcessResult;
import ai.sonia.openclaw.sandbox.ProcessRunner;
import ai.sonia.openclaw.v1.ShellRunArgs;

/** {@code shell.run}: the argv is checked by the policy and for symlink escapes, then run in the jail without network. */
final class ShellTool {

    private static final Duration BUDGET_MARGIN = Duration.ofSeconds(1);
    private static final Duration MIN_TIMEOUT = Duration.ofMillis(100);

    private final CommandPolicy policy;
    private final ProcessRunner runner;

    ShellTool(CommandPolicy policy, ProcessRunner runner) {
        this.policy = policy;
        this.runner = runner;
    }

    ToolOutcome run(ShellRunArgs args, ToolCall call) {
        final List<String> argv = args.getArgvList();
        policy.check(argv);
        checkLinks(argv, call);
        Duration timeout = args.getTimeoutSeconds() > 0 ? Duration.ofSeconds(args.getTimeoutSeconds())
                                                        : runner.limits().defaultTimeout();
        if (!call.budget().isZero()) {
            // Kill it before the caller gives up, so the caller learns it was killed.
            final Duration budget = call.budget().minus(BUDGET_MARGIN);
            timeout = budget.compareTo(MIN_TIMEOUT) < 0 ? MIN_TIMEOUT : budget.compareTo(timeout) < 0 ? budget : timeout;
        }
        final ProcessResult result = runner.run(argv, call.workspace().root(), call.workingDirectory(),
                                                args.getStdin(), timeout, false);
        final Map<String, Object> out = new LinkedHashMap<>();
        out.put("argv", argv);
        out.put("exit_code", result.exitCode());
        out.put("killed_by", result.killedBy());
        out.put("process_cap_hit", result.processCapHit());
        return new ToolOutcome(Outputs.struct(out), result);
    }

    /**
     * The Java check under the jail: an argument naming something that exists in the working directory
     * must not lead out of the workspace through a symbolic link.
     */
    private void checkLinks(List<String> argv, ToolCall call) {
        for (int i = 1; i < argv.size(); i++) {
            final String arg = argv.get(i);
            final String value = arg.startsWith("-") && arg.contains("=") ? arg.substring(arg.indexOf('=') + 1) : arg;
            if (value.isEmpty() || value.startsWith("/dev/")) {
                continue;
            }
            final Path path = call.workingDirectory().resolve(value).normalize();
            if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
                continue;
            }
            try {
                if (!path.toRealPath().startsWith(call.workspace().root())) {
                    throw new InvalidArgumentsException("arguments.argv[" + i + ']',
                                                        "leads out of the workspace through a symbolic link: " + arg);
                }
            } catch (IOException e) {
                throw new InvalidArgumentsException("arguments.argv[" + i + ']', "cannot resolve " + arg);
            }
        }
    }
}
