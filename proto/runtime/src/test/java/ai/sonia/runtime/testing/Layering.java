package ai.sonia.runtime.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The layering rule of every service: its {@code ai.sonia.<svc>.domain} and {@code ai.sonia.<svc>.store}
 * packages use no gRPC ({@code io.grpc.*}) and no Armeria ({@code com.linecorp.armeria.*}), by import or by
 * a fully qualified name; the transport lives in the service's adapters. A source scan (comments and string
 * literals do not count), run from a module's test with the module as the working directory, as Maven runs
 * them.
 */
public final class Layering {

    private static final Pattern TRANSPORT = Pattern.compile("\\b(io\\.grpc|com\\.linecorp\\.armeria)\\.[\\w.*]+");
    private static final List<String> LAYERS = List.of("domain", "store");

    /** Fails naming every file (and line) of the service's domain and store that refers to gRPC or Armeria. */
    public static void assertDomainFree(String service) {
        final Path here = Path.of("").toAbsolutePath();
        // Maven runs a module's tests in the module's directory; an IDE may run them from the repository root.
        final Path module = Files.isDirectory(sources(here, service)) ? here : here.resolve(service);
        assertDomainFree(module, service);
    }

    /** Same, for the module at {@code module}. */
    public static void assertDomainFree(Path module, String service) {
        final Path root = sources(module, service);
        final List<Path> layers = LAYERS.stream().map(root::resolve).filter(Files::isDirectory).toList();
        if (layers.isEmpty()) {
            throw new AssertionError("no " + LAYERS + " package under " + root);
        }
        final List<String> violations = new ArrayList<>();
        for (Path layer : layers) {
            try (Stream<Path> files = Files.walk(layer)) {
                for (Path file : files.filter(f -> f.toString().endsWith(".java")).sorted().toList()) {
                    violations.addAll(violations(module.relativize(file), Files.readString(file, StandardCharsets.UTF_8)));
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        if (!violations.isEmpty()) {
            throw new AssertionError(service + "'s domain and store must not use gRPC or Armeria (" + violations.size()
                                     + " uses):\n  " + String.join("\n  ", violations));
        }
    }

    private static Path sources(Path module, String service) {
        return module.resolve(Path.of("src", "main", "java", "ai", "sonia", service));
    }

    /** "path:line: name" for every transport name in code (not in comments or strings). */
    static List<String> violations(Path file, String source) {
        final List<String> found = new ArrayList<>();
        final String[] lines = codeOnly(source).split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            final Matcher m = TRANSPORT.matcher(lines[i]);
            while (m.find()) {
                found.add(file + ":" + (i + 1) + ": " + m.group());
            }
        }
        return found;
    }

    /** The source with comments, string, text block and char literals blanked; line breaks kept. */
    static String codeOnly(String source) {
        final StringBuilder out = new StringBuilder(source.length());
        int i = 0;
        while (i < source.length()) {
            final char c = source.charAt(i);
            final String rest2 = source.substring(i, Math.min(i + 3, source.length()));
            if (rest2.startsWith("//")) {
                while (i < source.length() && source.charAt(i) != '\n') {
                    i++;
                }
            } else if (rest2.startsWith("/*")) {
                i = skip(source, i + 2, "*/", out);
            } else if (rest2.equals("\"\"\"")) {
                i = skip(source, i + 3, "\"\"\"", out);
            } else if (c == '"' || c == '\'') {
                i++;
                while (i < source.length() && source.charAt(i) != c && source.charAt(i) != '\n') {
                    i += source.charAt(i) == '\\' ? 2 : 1;
                }
                i++;
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }

    /** Skips to after {@code end} (escapes inside text blocks skipped too), keeping the line breaks. */
    private static int skip(String source, int from, String end, StringBuilder out) {
        int i = from;
        while (i < source.length() && !source.startsWith(end, i)) {
            if (source.charAt(i) == '\n') {
                out.append('\n');
            }
            i += source.charAt(i) == '\\' && end.equals("\"\"\"") ? 2 : 1;
        }
        return i + end.length();
    }

    private Layering() {}
}
