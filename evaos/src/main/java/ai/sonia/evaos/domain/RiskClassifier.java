package ai.sonia.evaos.domain;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;

import ai.sonia.openclaw.v1.ToolsProto;
import ai.sonia.options.v1.OptionsProto;
import ai.sonia.options.v1.RiskLevel;
import ai.sonia.options.v1.ToolContract;

/**
 * Gives an action a risk level and names the rule that decided, as a pure function of the tool, its
 * arguments and the working directory: no clock, no state, no randomness, so the same action always
 * gets the same answer. Rules are tried in a fixed order; the first that matches decides, and the
 * tool's declared risk (from the contract) applies when none does. Unknown tools are denied.
 */
public final class RiskClassifier {

    /** Programs that only read or print: shell.run of them with clean arguments is LOW. */
    static final Set<String> READ_ONLY_PROGRAMS = Set.of(
            "ls", "cat", "echo", "printf", "grep", "wc", "head", "tail", "sort", "uniq", "cut", "tr", "pwd",
            "date", "true", "false", "stat", "du", "diff", "sha256sum", "base64", "seq", "find");
    /** Programs never allowed: privilege, devices, mounts, power, kernel, firewall. */
    static final Set<String> FORBIDDEN_PROGRAMS = Set.of(
            "sudo", "su", "doas", "pkexec", "chroot", "mount", "umount", "mkfs", "fdisk", "parted", "dd",
            "shutdown", "reboot", "halt", "poweroff", "init", "telinit", "systemctl", "insmod", "rmmod",
            "modprobe", "iptables", "nft", "ip", "chown", "chmod", "setcap", "nsenter", "unshare", "bwrap");
    /** Interpreters and exec wrappers: whatever they run cannot be classified, so a person decides. */
    static final Set<String> INTERPRETERS = Set.of(
            "sh", "bash", "dash", "zsh", "ksh", "busybox", "env", "xargs", "nohup", "nice", "timeout", "stdbuf",
            "setsid", "python", "python3", "perl", "ruby", "node", "php", "lua", "awk", "gawk", "mawk", "sed");
    /** Options that make a program run another program or write elsewhere. */
    static final List<String> EXEC_OPTIONS = List.of(
            "-exec", "-execdir", "-ok", "-okdir", "-delete", "-fprint", "-fprintf", "-fls", "--exec", "--execdir",
            "--to-command", "--checkpoint-action", "--use-compress-program", "--compress-program", "--rsh-command",
            "--info-script", "--new-volume-script", "--upload-pack", "--receive-pack", "--no-preserve-root");
    static final String METACHARACTERS = ";&|`$<>(){}\n\r";
    private static final Pattern DESTRUCTIVE_SCRIPT = Pattern.compile(
            "rm\\s+(-[a-z]*\\s+)*(/|/\\*|~|\\$HOME|\\.\\.)(\\s|$)|mkfs|dd\\s+.*of=/dev|:\\(\\)\\s*\\{|>\\s*/dev/sd"
            + "|(curl|wget)[^|]*\\|\\s*(ba)?sh|chmod\\s+-R\\s+777\\s+/|--no-preserve-root");
    private static final Pattern OBFUSCATED_HOST = Pattern.compile(
            "^(0x[0-9a-f]+|0[0-7]+|[0-9]+)(\\.(0x[0-9a-f]+|0[0-7]*|[0-9]+)){0,3}$|^\\[?::ffff:|^[0-9]+$");

    private final Map<String, ToolContract> tools;

    public RiskClassifier() {
        tools = ToolsProto.getDescriptor().getMessageTypes().stream()
                          .filter(m -> m.getOptions().hasExtension(OptionsProto.tool))
                          .map(m -> m.getOptions().getExtension(OptionsProto.tool))
                          .collect(Collectors.toUnmodifiableMap(ToolContract::getName, Function.identity()));
    }

    /** Classifies an action. */
    public Classification classify(String tool, Struct arguments, String workingDirectory) {
        final ToolContract contract = tools.get(tool);
        if (contract == null) {
            return new Classification(RiskLevel.RISK_LEVEL_UNSPECIFIED, "default/unknown-tool",
                                      "unknown tool " + tool + ": denied by default");
        }
        final String pathProblem = pathProblem(workingDirectory);
        if (pathProblem != null) {
            return critical("path/outside-workspace", "working directory " + pathProblem);
        }
        for (String field : List.of("path")) {
            final String value = string(arguments, field);
            final String problem = pathProblem(value);
            if (problem != null) {
                return critical("path/outside-workspace", field + ' ' + problem);
            }
        }
        final Classification specific = switch (tool) {
            case "shell.run" -> shell(arguments);
            case "file.delete" -> fileDelete(arguments);
            case "file.write" -> fileWrite(arguments);
            case "http.fetch" -> httpFetch(arguments);
            default -> null;
        };
        if (specific != null) {
            return specific;
        }
        return new Classification(contract.getRisk(), tool + "/default-risk",
                                  tool + " is " + level(contract.getRisk()) + " risk by contract");
    }

    private static Classification shell(Struct arguments) {
        final List<String> argv = strings(arguments, "argv");
        if (argv.isEmpty()) {
            return critical("shell.run/empty-argv", "no program to run");
        }
        final String program = argv.get(0);
        final String base = program.substring(program.lastIndexOf('/') + 1).toLowerCase(Locale.ROOT);
        if (program.contains("=")) {
            return critical("shell.run/environment-injection", "argv[0] assigns a variable: " + program);
        }
        if (program.contains("/")) {
            return critical("shell.run/program-path", "argv[0] must be a bare program name: " + program);
        }
        if (FORBIDDEN_PROGRAMS.contains(base) || base.startsWith("mkfs")) {
            return critical("shell.run/forbidden-program", base + " is never allowed");
        }
        final String joined = String.join(" ", argv);
        if (DESTRUCTIVE_SCRIPT.matcher(joined).find()) {
            return critical("shell.run/destructive-pattern", "destroys data outside the workspace: " + joined);
        }
        if (base.equals("rm") && argv.stream().anyMatch(a -> a.equals("/") || a.equals("*") || a.equals("."))) {
            return critical("shell.run/rm-root", "rm of the root or a whole directory");
        }
        if (INTERPRETERS.contains(base)) {
            return new Classification(RiskLevel.RISK_LEVEL_HIGH, "shell.run/interpreter",
                                      base + " runs code that cannot be classified; a person decides");
        }
        for (int i = 1; i < argv.size(); i++) {
            final String arg = argv.get(i);
            for (char c : arg.toCharArray()) {
                if (METACHARACTERS.indexOf(c) >= 0) {
                    return critical("shell.run/metacharacters",
                                    "argv[" + i + "] carries the shell metacharacter '" + c
                                    + "' outside a shell: an injection attempt");
                }
            }
            final String option = execOption(arg);
            if (option != null) {
                return critical("shell.run/exec-option", "argv[" + i + "] is " + option
                                                         + ", which runs another program or deletes");
            }
            final String value = arg.startsWith("-") && arg.contains("=") ? arg.substring(arg.indexOf('=') + 1)
                                                                          : arg;
            final String problem = pathProblem(value);
            if (problem != null && !value.startsWith("/dev/")) {
                return critical("shell.run/path-outside-workspace", "argv[" + i + "] " + problem);
            }
        }
        if (READ_ONLY_PROGRAMS.contains(base)) {
            return new Classification(RiskLevel.RISK_LEVEL_LOW, "shell.run/read-only-program",
                                      base + " only reads and prints");
        }
        return null;
    }

    private static Classification fileDelete(Struct arguments) {
        final String path = string(arguments, "path");
        if (path.isEmpty() || path.equals(".") || path.equals("./")) {
            return critical("file.delete/workspace-root", "deleting the workspace root");
        }
        return null;
    }

    private static Classification fileWrite(Struct arguments) {
        final String path = string(arguments, "path").toLowerCase(Locale.ROOT);
        if (path.startsWith(".git/hooks") || path.endsWith(".bashrc") || path.endsWith(".profile")) {
            return new Classification(RiskLevel.RISK_LEVEL_HIGH, "file.write/executable-config",
                                      "writes a file that other programs execute");
        }
        return null;
    }

    private static Classification httpFetch(Struct arguments) {
        final String url = string(arguments, "url").trim();
        final int colon = url.indexOf(':');
        final String scheme = colon < 0 ? "" : url.substring(0, colon).toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            return critical("http.fetch/scheme", "only http and https: " + scheme);
        }
        final String host = host(url);
        if (host.contains("@")) {
            return critical("http.fetch/user-info", "URL carries credentials or hides its host");
        }
        if (OBFUSCATED_HOST.matcher(host).find() && !host.matches("^\\d{1,3}(\\.\\d{1,3}){3}$")) {
            return critical("http.fetch/obfuscated-host", "host written as an unusual IP literal: " + host);
        }
        if (host.equals("169.254.169.254") || host.equals("metadata.google.internal")) {
            return critical("http.fetch/cloud-metadata", "cloud metadata endpoint");
        }
        return null;
    }

    /** The authority of a URL, lower case, without port handling (enough to spot tricks). */
    private static String host(String url) {
        final int start = url.indexOf("//");
        if (start < 0) {
            return "";
        }
        String rest = url.substring(start + 2);
        for (char end : new char[] {'/', '?', '#'}) {
            final int i = rest.indexOf(end);
            if (i >= 0) {
                rest = rest.substring(0, i);
            }
        }
        if (!rest.startsWith("[") && rest.lastIndexOf(':') > rest.lastIndexOf('@')) {
            rest = rest.substring(0, rest.lastIndexOf(':'));
        }
        return rest.toLowerCase(Locale.ROOT);
    }

    /** Why a path leaves the workspace, or null when it stays inside (lexically; OpenClaw checks the real path). */
    static String pathProblem(String path) {
        if (path.indexOf('\0') >= 0) {
            return "contains a NUL character";
        }
        if (path.startsWith("/") || path.startsWith("\\") || path.startsWith("~")) {
            return "is absolute: " + path;
        }
        for (String segment : path.split("[/\\\\]")) {
            if (segment.equals("..")) {
                return "climbs out with '..': " + path;
            }
        }
        return null;
    }

    private static String execOption(String arg) {
        final String name = arg.contains("=") ? arg.substring(0, arg.indexOf('=')) : arg;
        for (String option : EXEC_OPTIONS) {
            if (name.equals(option)) {
                return option;
            }
            // GNU getopt_long accepts any unambiguous prefix: "--ex" may mean "--exec".
            if (option.startsWith("--") && name.startsWith("--") && name.length() > 2 && option.startsWith(name)) {
                return option + " (abbreviated as " + name + ')';
            }
        }
        return null;
    }

    private static Classification critical(String rule, String reason) {
        return new Classification(RiskLevel.RISK_LEVEL_CRITICAL, rule, reason);
    }

    private static String level(RiskLevel risk) {
        return risk.name().substring("RISK_LEVEL_".length()).toLowerCase(Locale.ROOT);
    }

    private static String string(Struct arguments, String field) {
        final Value v = arguments.getFieldsOrDefault(field, Value.getDefaultInstance());
        return v.hasStringValue() ? v.getStringValue() : "";
    }

    private static List<String> strings(Struct arguments, String field) {
        final Value v = arguments.getFieldsOrDefault(field, Value.getDefaultInstance());
        final List<String> list = new ArrayList<>();
        if (v.hasListValue()) {
            v.getListValue().getValuesList().forEach(e -> list.add(e.hasStringValue() ? e.getStringValue()
                                                                                      : e.toString()));
        }
        return list;
    }
}
