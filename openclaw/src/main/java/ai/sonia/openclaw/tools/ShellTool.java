package ai.sonia.openclaw.tools;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import ai.sonia.openclaw.sandbox.CommandPolicy;
import ai.sonia.openclaw.sandbox.ProcessResult;
import ai.sonia.openclaw.sandbox.ProcessRunner;
import ai.sonia.openclaw.v1.ShellRunArgs;

/** {@code shell.run}: the argv is checked by the policy, then run in the jail without network. */
final class ShellTool {

    private final CommandPolicy policy;
    private final ProcessRunner runner;

    ShellTool(CommandPolicy policy, ProcessRunner runner) {
        this.policy = policy;
        this.runner = runner;
    }

    ToolOutcome run(ShellRunArgs args, ToolCall call) {
        final List<String> argv = args.getArgvList();
        policy.check(argv);
        final Duration timeout = args.getTimeoutSeconds() > 0 ? Duration.ofSeconds(args.getTimeoutSeconds())
                                                              : runner.limits().defaultTimeout();
        final ProcessResult result = runner.run(argv, call.workingDirectory(), args.getStdin(), timeout, false);
        final Map<String, Object> out = new LinkedHashMap<>();
        out.put("argv", argv);
        out.put("exit_code", result.exitCode());
        out.put("killed_by", result.killedBy());
        out.put("process_cap_hit", result.processCapHit());
        return new ToolOutcome(Outputs.struct(out), result);
    }
}
