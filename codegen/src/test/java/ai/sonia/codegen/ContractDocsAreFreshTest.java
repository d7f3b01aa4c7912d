package ai.sonia.codegen;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;

/** Fails when a generated document in docs/ is out of date with the protos. */
class ContractDocsAreFreshTest {

    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final String HOW = "docs/ is stale: run `scripts/sonia codegen` and commit the result";

    @Test
    void everyGeneratedFileMatchesTheContract() throws IOException {
        final Map<String, String> expected = ContractDocs.render();
        for (Map.Entry<String, String> file : expected.entrySet()) {
            final Path path = ROOT.resolve(file.getKey());
            assertThat(path).as(HOW + " (missing " + file.getKey() + ")").exists();
            assertThat(Files.readString(path, StandardCharsets.UTF_8)).as(HOW + " (" + file.getKey() + ")")
                                                                      .isEqualTo(file.getValue());
        }
        try (var paths = Files.walk(ROOT.resolve("docs/contract"))) {
            final Set<String> onDisk = paths.filter(Files::isRegularFile)
                                            .map(p -> ROOT.relativize(p).toString().replace('\\', '/'))
                                            .collect(Collectors.toSet());
            assertThat(onDisk).as(HOW + " (files no longer generated)").isSubsetOf(expected.keySet());
        }
    }
}
