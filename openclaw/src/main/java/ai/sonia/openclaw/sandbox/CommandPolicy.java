package ai.sonia.openclaw.sandbox;

import java.util.List;
import java.util.Map;
import java.util.Set;

import ai.sonia.openclaw.catalog.InvalidArgumentsException;

/**
 * Which argv {@code shell.run} may run. The program must be a bare name on the allow list; shells are
 * refused unless {@code allowShell}; no argument may carry shell metacharacters (unless a shell is
 * allowed and this is its script), a {@code ..} segment or an absolute path other than a few devices;
 * options that make a program run another one are refused, including GNU abbreviations of long
 * options ({@code --ex} for {@code --exec}).
 */
public record CommandPolicy(Set<String> allowedExecutables, Map<String, List<String>> deniedOptions,
                            boolean allowShell) {

    /** Programs allowed by default: they read, count, copy and print inside the workspace. */
    public static final Set<String> DEFAULT_EXECUTABLES = Set.of(
            "ls", "cat", "echo", "printf", "grep", "wc", "head", "tail", "sort", "uniq", "cut", "tr", "find",
            "pwd", "date", "true", "false", "sleep", "mkdir", "touch", "cp", "mv", "rm", "stat", "du", "diff",
            "sha256sum", "base64", "seq", "yes", "tar");

    /** Options that run other programs or write where they should not, per program. */
    public static final Map<String, List<String>> DEFAULT_DENIED_OPTIONS = Map.of(
            "find", List.of("-exec", "-execdir", "-ok", "-okdir", "-fprint", "-fprint0", "-fprintf", "-fls"),
            "sort", List.of("--compress-program"),
            "tar", List.of("--to-command", "--checkpoint-action", "--use-compress-program", "-I", "--info-script",
                           "--new-volume-script", "-F", "--rsh-command", "--rmt-command"),
            "rm", List.of("--no-preserve-root"),
            "cp", List.of("--preserve"),
            "date", List.of("--file", "-f", "--set", "-s"));

    /** Interpreters that turn a string into commands. */
    public static final Set<String> SHELLS = Set.of("sh", "bash", "dash", "zsh", "ksh", "busybox", "env",
                                                    "xargs", "nohup", "nice", "timeout", "stdbuf", "setsid");

    /** Characters a shell would interpret: separators, substitution, redirection, brace expansion. */
    static final String METACHARACTERS = ";&|`$<>(){}\n\r";

    private static final Set<String> DEVICES = Set.of("/dev/null", "/dev/zero", "/dev/urandom");

    public CommandPolicy {
        allowedExecutables = Set.copyOf(allowedExecutables);
        deniedOptions = Map.copyOf(deniedOptions);
    }

    /** The defaults: no shell. */
    public static CommandPolicy defaults() {
        return new CommandPolicy(DEFAULT_EXECUTABLES, DEFAULT_DENIED_OPTIONS, false);
    }

    /** Throws {@link InvalidArgumentsException} naming the offending argv element when {@code argv} may not run. */
    public void check(List<String> argv) {
        if (argv.isEmpty()) {
            throw new InvalidArgumentsException("arguments.argv", "is required");
        }
        final String program = argv.get(0);
        if (program.isEmpty() || program.contains("/") || program.contains("=")) {
            throw new InvalidArgumentsException("arguments.argv[0]",
                                                "must be a bare program name (no path, no VAR=value): " + program);
        }
        final boolean shell = SHELLS.contains(program);
        if (shell && !allowShell) {
            throw new InvalidArgumentsException("arguments.argv[0]", "shells and exec wrappers are not allowed: "
                                                                     + program);
        }
        if (!shell && !allowedExecutables.contains(program)) {
            throw new InvalidArgumentsException("arguments.argv[0]", "program not allowed: " + program);
        }
        final List<String> denied = deniedOptions.getOrDefault(program, List.of());
        for (int i = 1; i < argv.size(); i++) {
            final String arg = argv.get(i);
            final String field = "arguments.argv[" + i + ']';
            if (arg.indexOf('\0') >= 0) {
                throw new InvalidArgumentsException(field, "contains a NUL character");
            }
            if (!shell) {
                checkPlainArgument(arg, field);
            }
            final String option = deniedOption(arg, denied);
            if (option != null) {
                throw new InvalidArgumentsException(field, "option not allowed for " + program + ": " + option);
            }
        }
    }

    private static void checkPlainArgument(String arg, String field) {
        for (int c = 0; c < arg.length(); c++) {
            if (METACHARACTERS.indexOf(arg.charAt(c)) >= 0) {
                throw new InvalidArgumentsException(field, "shell metacharacter '" + printable(arg.charAt(c))
                                                           + "' is not allowed without a shell");
            }
        }
        final String value = arg.startsWith("-") && arg.contains("=") ? arg.substring(arg.indexOf('=') + 1) : arg;
        if (value.startsWith("/") && !DEVICES.contains(value)) {
            throw new InvalidArgumentsException(field, "absolute paths are outside the workspace: " + value);
        }
        if (value.startsWith("~")) {
            throw new InvalidArgumentsException(field, "home paths are outside the workspace: " + value);
        }
        for (String segment : value.split("/")) {
            if (segment.equals("..")) {
                throw new InvalidArgumentsException(field, "'..' leaves the workspace: " + value);
            }
        }
    }

    /**
     * The denied option {@code arg} names, or null. A long option matches when it is the option or an
     * unambiguous-looking prefix of it (getopt_long accepts any prefix of at least one letter), with or
     * without {@code =value}; a short option matches anywhere in a cluster ({@code -xI}), since the
     * letters after it could be its glued value or more flags.
     */
    static String deniedOption(String arg, List<String> denied) {
        final String name = arg.contains("=") ? arg.substring(0, arg.indexOf('=')) : arg;
        for (String option : denied) {
            if (option.startsWith("--")) {
                if (name.startsWith("--") && name.length() > 2 && option.startsWith(name)) {
                    return option;
                }
            } else if (option.length() == 2 ? isShortCluster(arg) && arg.indexOf(option.charAt(1), 1) >= 0
                                            : name.equals(option)) {
                return option;
            }
        }
        return null;
    }

    private static boolean isShortCluster(String arg) {
        return arg.length() >= 2 && arg.charAt(0) == '-' && arg.charAt(1) != '-';
    }

    private static String printable(char c) {
        return c == '\n' ? "\\n" : c == '\r' ? "\\r" : String.valueOf(c);
    }
}
