package ai.sonia.openclaw.sandbox;

import java.util.List;
import java.util.Map;
import java.util.Set;

import ai.sonia.runtime.errors.DomainException;


/**
 * Which argv {@code shell.run} may run. The program must be a bare name on the allow list and have a
 * {@link ProgramGrammar} (the allow-list of its options: anything else is refused naming the option);
 * shells are refused unless {@code allowShell}; no argument may carry shell metacharacters (unless a
 * shell is allowed and this is its script), and no operand or option value — glued ({@code -f/x},
 * {@code --file=/x}) or not — may be an absolute path other than a few devices, a home path or have a
 * {@code ..} segment. {@code deniedOptions} are the operator's extra refusals on top of the grammars.
 */
public record CommandPolicy(Set<String> allowedExecutables, Map<String, List<String>> deniedOptions,
                            boolean allowShell) {

    /** Programs allowed by default: every one with a grammar. */
    public static final Set<String> DEFAULT_EXECUTABLES = ProgramGrammar.defaultPrograms();

    /** No extra refusals by default: the grammars already leave out what runs, writes elsewhere or follows. */
    public static final Map<String, List<String>> DEFAULT_DENIED_OPTIONS = Map.of();

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

    /** What a checked argv is: a shell script, or a program whose operands and option values are listed. */
    public record Checked(boolean shell, boolean writes, List<Integer> values) {}

    /** Throws {@link DomainException} naming the offending argv element when {@code argv} may not run. */
    public Checked check(List<String> argv) {
        if (argv.isEmpty()) {
            throw DomainException.invalidArgument("arguments.argv", "is required");
        }
        final String program = argv.get(0);
        if (program.isEmpty() || program.contains("/") || program.contains("=")) {
            throw DomainException.invalidArgument("arguments.argv[0]",
                                                "must be a bare program name (no path, no VAR=value): " + program);
        }
        final boolean shell = SHELLS.contains(program);
        if (shell && !allowShell) {
            throw DomainException.invalidArgument("arguments.argv[0]", "shells and exec wrappers are not allowed: "
                                                                     + program);
        }
        final ProgramGrammar grammar = ProgramGrammar.DEFAULTS.get(program);
        if (!shell && (!allowedExecutables.contains(program) || grammar == null)) {
            throw DomainException.invalidArgument("arguments.argv[0]", "program not allowed: " + program);
        }
        final List<String> denied = deniedOptions.getOrDefault(program, List.of());
        for (int i = 1; i < argv.size(); i++) {
            final String arg = argv.get(i);
            final String field = "arguments.argv[" + i + ']';
            if (arg.indexOf('\0') >= 0) {
                throw DomainException.invalidArgument(field, "contains a NUL character");
            }
            if (!shell) {
                checkMetacharacters(arg, field);
            }
            final String option = deniedOption(arg, denied);
            if (option != null) {
                throw DomainException.invalidArgument(field, "option not allowed for " + program + ": " + option);
            }
        }
        if (shell) {
            return new Checked(true, true, List.of());
        }
        if (program.equals("tar") && argv.size() > 1 && !argv.get(1).startsWith("-")) {
            // GNU tar reads a first argument without '-' as a cluster of options ("tar xhf"): not parsed here.
            throw DomainException.invalidArgument("arguments.argv[1]", "tar options must start with '-': " + argv.get(1));
        }
        final ProgramGrammar.Parsed parsed = grammar.parse(argv);
        for (int i : parsed.values()) {
            checkPath(argv.get(i), "arguments.argv[" + i + ']');
        }
        return new Checked(false, parsed.writes(), parsed.values());
    }

    /** The part of argument {@code arg} that may name a file: its value for {@code --x=v} and {@code -fv}. */
    public static String pathPart(String arg) {
        if (arg.startsWith("--") && arg.contains("=")) {
            return arg.substring(arg.indexOf('=') + 1);
        }
        return arg;
    }

    private static void checkMetacharacters(String arg, String field) {
        for (int c = 0; c < arg.length(); c++) {
            if (METACHARACTERS.indexOf(arg.charAt(c)) >= 0) {
                throw DomainException.invalidArgument(field, "shell metacharacter '" + printable(arg.charAt(c))
                                                           + "' is not allowed without a shell");
            }
        }
    }

    /** An operand or option value (possibly {@code --x=v} or a glued {@code -fv}) must stay in the workspace. */
    private static void checkPath(String arg, String field) {
        final List<String> candidates = new java.util.ArrayList<>(List.of(pathPart(arg)));
        if (arg.startsWith("-") && !arg.startsWith("--") && arg.length() > 2) {
            // A glued short value: every suffix could be it (-xvf/etc/passwd).
            for (int k = 2; k < arg.length(); k++) {
                candidates.add(arg.substring(k));
            }
        }
        for (String value : candidates) {
            checkPlainArgument(value, field);
        }
    }

    private static void checkPlainArgument(String value, String field) {
        if (value.startsWith("/") && !DEVICES.contains(value)) {
            throw DomainException.invalidArgument(field, "absolute paths are outside the workspace: " + value);
        }
        if (value.startsWith("~")) {
            throw DomainException.invalidArgument(field, "home paths are outside the workspace: " + value);
        }
        for (String segment : value.split("/")) {
            if (segment.equals("..")) {
                throw DomainException.invalidArgument(field, "'..' leaves the workspace: " + value);
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
