package ai.sonia.openclaw.tools;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import ai.sonia.openclaw.sandbox.CommandPolicy;
import ai.sonia.openclaw.sandbox.ProcessResult;
import ai.sonia.openclaw.sandbox.ProcessRunner;
import ai.sonia.openclaw.sandbox.WorkspaceQuota;
import ai.sonia.openclaw.v1.ShellRunArguments;
import ai.sonia.options.v1.RiskLevel;
import ai.sonia.runtime.errors.DomainException;

/**
 * {@code shell.run}: the argv is checked against the program's grammar and for symlink escapes, then run
 * in the jail without network — with the workspace read-only unless the program writes and the call was
 * more than LOW risk (so a LOW call cannot write even through an option the grammar missed). After a
 * program that could write: escaping symbolic links it made are removed, and the quota is enforced.
 * A program killed by its own timeout is a result ({@code timed_out}), not a failure of the service.
 */
final class ShellTool {

    private static final Duration BUDGET_MARGIN = Duration.ofSeconds(1);
    private static final Duration MIN_TIMEOUT = Duration.ofMillis(100);

    private final CommandPolicy policy;
    private final ProcessRunner runner;
    private final WorkspaceQuota quota;

    ShellTool(CommandPolicy policy, ProcessRunner runner, WorkspaceQuota quota) {
        this.policy = policy;
        this.runner = runner;
        this.quota = quota;
    }

    ToolOutcome run(ShellRunArguments args, ToolCall call) {
        final List<String> argv = args.getArgvList();
        final CommandPolicy.Checked checked = policy.check(argv);
        checkLinks(argv, checked.shell() ? IntStream.range(1, argv.size()).boxed().toList() : checked.values(), call);
        Duration timeout = args.getTimeoutSeconds() > 0 ? Duration.ofSeconds(args.getTimeoutSeconds())
                                                        : runner.limits().defaultTimeout();
        if (!call.budget().isZero()) {
            // Kill it before the caller gives up, so the caller learns it was killed.
            final Duration budget = call.budget().minus(BUDGET_MARGIN);
            timeout = budget.compareTo(MIN_TIMEOUT) < 0 ? MIN_TIMEOUT : budget.compareTo(timeout) < 0 ? budget : timeout;
        }
        final Path root = call.workspace().root();
        // Writable only for a program that writes, in a call EVA-OS rated MEDIUM or above (so a person, a grant
        // or a rule saw it as a change); LOW and unknown ratings get a read-only workspace.
        final boolean writable = checked.writes() && call.risk().getNumber() >= RiskLevel.RISK_LEVEL_MEDIUM_VALUE;
        long maxFile = runner.limits().fileBytes();
        Map<Path, String> before = Map.of();
        if (writable) {
            maxFile = quota.remaining(root);
            before = WorkspaceQuota.snapshot(root);
        }
        final ProcessResult result = runner.run(argv, root, call.workingDirectory(), args.getStdin(), timeout, false,
                                                writable, maxFile, call.owner());
        List<String> removedLinks = List.of();
        if (writable) {
            removedLinks = WorkspaceQuota.stripEscapingLinks(root, before);
            quota.enforceAfter(root, before);
        }
        final Map<String, Object> out = new LinkedHashMap<>();
        out.put("argv", argv);
        out.put("exit_code", result.exitCode());
        out.put("timed_out", result.timedOut());
        out.put("killed_by", result.killedBy());
        out.put("process_cap_hit", result.processCapHit());
        out.put("workspace_writable", writable);
        out.put("jailed", result.jailed());
        if (!removedLinks.isEmpty()) {
            out.put("removed_unsafe_entries", removedLinks);
        }
        return new ToolOutcome(Outputs.struct(out), result);
    }

    /**
     * The Java check under the jail: an operand or option value naming something that exists must not
     * lead out of the workspace through a symbolic link (relative to the working directory; in the jail
     * the outside does not exist either).
     */
    private static void checkLinks(List<String> argv, List<Integer> indexes, ToolCall call) {
        for (int i : indexes) {
            final String arg = argv.get(i);
            final String value = CommandPolicy.pathPart(arg);
            if (value.isEmpty() || value.startsWith("/dev/")) {
                continue;
            }
            final Path path;
            try {
                path = call.workingDirectory().resolve(value).normalize();
            } catch (java.nio.file.InvalidPathException e) {
                continue;
            }
            if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
                continue;
            }
            try {
                if (!path.toRealPath().startsWith(call.workspace().root())) {
                    throw DomainException.invalidArgument("arguments.argv[" + i + ']',
                                                        "leads out of the workspace through a symbolic link: " + arg);
                }
            } catch (IOException e) {
                throw DomainException.invalidArgument("arguments.argv[" + i + ']', "cannot resolve " + arg);
            }
        }
    }
}
