package ai.sonia.runtime.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import ai.sonia.runtime.StackConfig;

/** Fresh {@code SONIA_HOME} directories under {@code target/}, and configs that listen on free ports. */
public final class TestHomes {

    /** A new empty directory {@code target/test-homes/<name>-<n>}. */
    public static Path create(String name) {
        try {
            final Path root = Path.of("target", "test-homes").toAbsolutePath();
            Files.createDirectories(root);
            return Files.createTempDirectory(root, name + '-');
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A config rooted at a new home where the given services listen on free ports. */
    public static StackConfig config(String name, String... servicesOnFreePorts) {
        final Map<String, Integer> ports = new java.util.HashMap<>();
        for (String service : servicesOnFreePorts) {
            ports.put(service, 0);
        }
        return StackConfig.load(Map.of("SONIA_HOME", create(name).toString())).withPorts(ports);
    }

    private TestHomes() {}
}
