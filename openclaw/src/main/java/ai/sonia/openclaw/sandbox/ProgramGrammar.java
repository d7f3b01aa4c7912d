package ai.sonia.openclaw.sandbox;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import ai.sonia.runtime.errors.DomainException;


/**
 * The options a program of {@code shell.run} accepts: an allow-list, per program, of short flags, short
 * options that take a value, and long options written in full (no GNU abbreviations), each with or
 * without a value; plus how many operands it takes and whether it writes. Anything else is refused
 * naming the option. What is left out is on purpose: options that write elsewhere ({@code sort -o}, a
 * second {@code uniq} operand), read a list of files to open ({@code --files0-from}, {@code tar -T},
 * {@code sha256sum -c}), follow symbolic links ({@code grep -R}, {@code ls -L}, {@code find -L},
 * {@code du -L}, {@code tar -h}, {@code cp -L}), run programs ({@code find -exec}, {@code tar -I}),
 * take absolute names ({@code tar -P}), make links ({@code cp -s}, {@code cp -l}) or never end
 * ({@code tail -f}).
 */
public record ProgramGrammar(String program, String flags, String valued, Map<String, Arity> longOptions,
                             Map<String, Integer> predicates, int maxOperands, boolean writes) {

    /** How a long option takes its value. */
    public enum Arity { NONE, REQUIRED, OPTIONAL }

    /** The grammars of the default programs. */
    public static final Map<String, ProgramGrammar> DEFAULTS = defaults();

    /** Operands and option values of an argv that passed: what may name files, with their argv index. */
    public record Parsed(List<Integer> values, boolean writes) {}

    /**
     * Parses {@code argv} (argv[0] is the program). Returns the indexes of the arguments that are operands or
     * option values (to check as paths); throws {@link DomainException} naming the argument.
     */
    public Parsed parse(List<String> argv) {
        final List<Integer> values = new ArrayList<>();
        int operands = 0;
        boolean options = true;
        boolean expression = false;
        for (int i = 1; i < argv.size(); i++) {
            final String arg = argv.get(i);
            final String field = "arguments.argv[" + i + ']';
            if (options && arg.equals("--")) {
                options = false;
                continue;
            }
            if (!predicates.isEmpty() && (expression || arg.startsWith("-") || arg.equals("!"))) {
                // find: paths, then an expression of allowed predicates, each with its fixed number of values.
                expression = true;
                final Integer count = predicates.get(arg);
                if (count == null) {
                    throw refused(field, arg);
                }
                for (int k = 0; k < count; k++) {
                    if (++i >= argv.size()) {
                        throw DomainException.invalidArgument(field, program + ' ' + arg + " needs a value");
                    }
                    values.add(i);
                }
                continue;
            }
            if (options && arg.startsWith("--")) {
                final int eq = arg.indexOf('=');
                final String name = eq < 0 ? arg : arg.substring(0, eq);
                final Arity arity = longOptions.get(name);
                if (arity == null || (arity == Arity.NONE && eq >= 0)) {
                    throw refused(field, name);
                }
                if (eq >= 0) {
                    values.add(i);
                } else if (arity == Arity.REQUIRED) {
                    if (++i >= argv.size()) {
                        throw DomainException.invalidArgument(field, program + ' ' + name + " needs a value");
                    }
                    values.add(i);
                }
                continue;
            }
            if (options && arg.length() > 1 && arg.startsWith("-")) {
                for (int c = 1; c < arg.length(); c++) {
                    final char letter = arg.charAt(c);
                    if (valued.indexOf(letter) >= 0) {
                        if (c + 1 < arg.length()) {
                            values.add(i); // glued value: -n5, -f/etc/passwd (checked as a path too)
                        } else if (++i >= argv.size()) {
                            throw DomainException.invalidArgument(field, program + " -" + letter + " needs a value");
                        } else {
                            values.add(i);
                        }
                        break;
                    }
                    if (flags.indexOf(letter) < 0) {
                        throw refused(field, "-" + letter);
                    }
                }
                continue;
            }
            operands++;
            if (maxOperands >= 0 && operands > maxOperands) {
                throw DomainException.invalidArgument(field, program + " takes at most " + maxOperands + " operand"
                                                           + (maxOperands == 1 ? "" : "s")
                                                           + (program.equals("uniq") ? " (a second one is a file"
                                                                                       + " it would write)" : "")
                                                           + ": " + arg);
            }
            values.add(i);
        }
        return new Parsed(values, writes);
    }

    private DomainException refused(String field, String option) {
        final TreeSet<String> allowed = new TreeSet<>();
        flags.chars().forEach(c -> allowed.add("-" + (char) c));
        valued.chars().forEach(c -> allowed.add("-" + (char) c + " VALUE"));
        longOptions.forEach((k, v) -> allowed.add(v == Arity.NONE ? k : v == Arity.REQUIRED ? k + "=VALUE"
                                                                                           : k + "[=VALUE]"));
        allowed.addAll(predicates.keySet());
        return DomainException.invalidArgument(field, "option not allowed for " + program + ": " + option
                                                    + " (allowed: " + String.join(" ", allowed) + ')');
    }

    /**
     * A grammar from a compact spec: {@code longs} is space-separated, each name ending in {@code =} when it
     * needs a value and in {@code ?=} when the value is optional (then only {@code --x=v}).
     */
    static ProgramGrammar of(String program, String flags, String valued, String longs, int maxOperands,
                             boolean writes) {
        final Map<String, Arity> map = new LinkedHashMap<>();
        for (String s : longs.split(" ")) {
            if (s.isEmpty()) {
                continue;
            }
            if (s.endsWith("?=")) {
                map.put(s.substring(0, s.length() - 2), Arity.OPTIONAL);
            } else if (s.endsWith("=")) {
                map.put(s.substring(0, s.length() - 1), Arity.REQUIRED);
            } else {
                map.put(s, Arity.NONE);
            }
        }
        return new ProgramGrammar(program, flags, valued, Map.copyOf(map), Map.of(), maxOperands, writes);
    }

    private static final int ANY = -1;

    private static Map<String, ProgramGrammar> defaults() {
        final List<ProgramGrammar> list = new ArrayList<>(List.of(
                of("ls", "aAlhR1tSrdFinsgoCxXvUpQ", "", "--all --almost-all --human-readable --recursive --reverse"
                   + " --directory --classify --inode --size --numeric-uid-gid --color?= --sort= --time-style="
                   + " --full-time --group-directories-first", ANY, false),
                of("cat", "nbsAETvet", "", "--number --number-nonblank --squeeze-blank --show-all --show-ends"
                   + " --show-tabs --show-nonprinting", ANY, false),
                of("echo", "neE", "", "", ANY, false),
                of("grep", "ivwxclLnhHoqsrEFGzZaIb", "efmABC", "--ignore-case --invert-match --word-regexp"
                   + " --line-regexp --count --files-with-matches --files-without-match --line-number --no-filename"
                   + " --with-filename --only-matching --quiet --silent --no-messages --recursive --extended-regexp"
                   + " --fixed-strings --basic-regexp --null-data --null --text --byte-offset --regexp= --file="
                   + " --max-count= --after-context= --before-context= --context= --include= --exclude="
                   + " --exclude-dir= --color?= --colour?= --binary-files=", ANY, false),
                of("wc", "clmwL", "", "--bytes --chars --lines --words --max-line-length", ANY, false),
                of("head", "qvz", "nc", "--lines= --bytes= --quiet --silent --verbose --zero-terminated", ANY, false),
                of("tail", "qvz", "nc", "--lines= --bytes= --quiet --silent --verbose --zero-terminated", ANY, false),
                of("sort", "bdfgiMhnRrVcCsuzm", "kt", "--ignore-leading-blanks --dictionary-order --ignore-case"
                   + " --general-numeric-sort --ignore-nonprinting --month-sort --human-numeric-sort --numeric-sort"
                   + " --random-sort --reverse --version-sort --stable --unique --zero-terminated --merge --debug"
                   + " --check?= --key= --field-separator=", ANY, false),
                of("uniq", "cdDuiz", "fsw", "--count --repeated --unique --ignore-case --zero-terminated"
                   + " --skip-fields= --skip-chars= --check-chars= --all-repeated?= --group?=", 1, false),
                of("cut", "snz", "bcfd", "--bytes= --characters= --fields= --delimiter= --complement"
                   + " --only-delimited --output-delimiter= --zero-terminated", ANY, false),
                of("tr", "cCdst", "", "--complement --delete --squeeze-repeats --truncate-set1", 2, false),
                of("pwd", "LP", "", "", 0, false),
                of("date", "uR", "dr", "--utc --universal --rfc-email --iso-8601?= --rfc-3339= --date= --reference=",
                   1, false),
                of("true", "", "", "", 0, false),
                of("false", "", "", "", 0, false),
                of("sleep", "", "", "", ANY, false),
                of("printf", "", "", "", ANY, false),
                of("seq", "w", "sf", "--equal-width --separator= --format=", 3, false),
                of("yes", "", "", "", ANY, false),
                of("stat", "tf", "c", "--format= --printf= --terse --file-system", ANY, false),
                of("du", "abchkmsx0", "d", "--all --apparent-size --bytes --total --human-readable --summarize"
                   + " --max-depth= --one-file-system --null --si", ANY, false),
                of("diff", "uqiwbBaysN", "UC", "--unified?= --context?= --brief --ignore-case --ignore-all-space"
                   + " --ignore-space-change --ignore-blank-lines --new-file --text --side-by-side"
                   + " --report-identical-files --normal --color?=", 2, false),
                of("sha256sum", "btz", "", "--binary --text --tag --zero", ANY, false),
                of("base64", "di", "w", "--decode --ignore-garbage --wrap=", 1, false),
                of("mkdir", "pv", "", "--parents --verbose", ANY, true),
                of("touch", "acmh", "dtr", "--no-create --date= --reference= --no-dereference --time=", ANY, true),
                of("cp", "rRnvufTP", "t", "--recursive --no-clobber --verbose --update?= --force"
                   + " --no-target-directory --no-dereference --target-directory=", ANY, true),
                of("mv", "fnvuT", "t", "--force --no-clobber --verbose --update?= --no-target-directory"
                   + " --target-directory=", ANY, true),
                of("rm", "rRfvd", "", "--recursive --force --verbose --dir --one-file-system", ANY, true),
                of("tar", "cxtvzjJkmO", "fC", "--create --extract --list --verbose --gzip --bzip2 --xz --file="
                   + " --directory= --keep-old-files --skip-old-files --no-same-owner --no-same-permissions"
                   + " --strip-components= --exclude= --to-stdout --touch --wildcards", ANY, true)));
        final Map<String, Integer> find = new HashMap<>();
        for (String p : List.of("-name", "-iname", "-path", "-ipath", "-type", "-maxdepth", "-mindepth", "-size",
                                "-mtime", "-mmin", "-newer", "-perm", "-regex", "-iregex", "-printf")) {
            find.put(p, 1);
        }
        for (String p : List.of("-empty", "-print", "-print0", "-not", "!", "-a", "-o", "-and", "-or", "-true",
                                "-false", "-prune", "-depth", "-xdev", "-readable", "-ls")) {
            find.put(p, 0);
        }
        list.add(new ProgramGrammar("find", "", "", Map.of(), Map.copyOf(find), ANY, false));
        final Map<String, ProgramGrammar> map = new LinkedHashMap<>();
        list.forEach(g -> map.put(g.program(), g));
        return Map.copyOf(map);
    }

    /** The default programs' names. */
    public static Set<String> defaultPrograms() {
        return DEFAULTS.keySet();
    }

    @Override
    public String toString() {
        return program + ' ' + flags + ' ' + valued + ' ' + Arrays.toString(longOptions.keySet().toArray());
    }
}
