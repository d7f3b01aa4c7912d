package ai.sonia.runtime;

import java.nio.file.Path;
import java.util.List;

import com.linecorp.armeria.common.annotation.Nullable;

/** The configuration cannot be used: every problem found, one sentence each, so one fix round is enough. */
public final class ConfigException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    private final transient List<String> problems;

    private final String headline;

    ConfigException(@Nullable Path file, List<String> problems) {
        super(headline(file, problems) + ' ' + String.join("; ", problems));
        headline = headline(file, problems);
        this.problems = List.copyOf(problems);
    }

    private static String headline(@Nullable Path file, List<String> problems) {
        return "the configuration (" + (file == null ? "no file" : file) + ") is refused, " + problems.size()
               + (problems.size() == 1 ? " problem:" : " problems:");
    }

    /** The sentence before the problems. */
    public String headline() {
        return headline;
    }

    /** One sentence per problem, each naming the key. */
    public List<String> problems() {
        return problems;
    }
}
