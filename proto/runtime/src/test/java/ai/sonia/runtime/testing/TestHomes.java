package ai.sonia.runtime.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import ai.sonia.runtime.StackConfig;

/** Fresh {@code SONIA_HOME} directories under {@code target/}, and configs that listen on free ports. */
public final class TestHomes {

    /**
     * The environment that makes a test's servers stop at once ({@code SoniaServer.Shutdown}: no quiet period,
     * no wait for in-flight requests, no connection drain), so that a test does not wait out every stop; a
     * stack keeps the defaults.
     */
    public static final Map<String, String> QUICK_STOP = Map.of(
            "SONIA_SHUTDOWN_QUIET_PERIOD_MS", "0", "SONIA_SHUTDOWN_TIMEOUT_MS", "0", "SONIA_SHUTDOWN_DRAIN_MS", "0");

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
        return StackConfig.load(env(create(name))).withPorts(ports);
    }

    /** The environment of a test's server on {@code home}: {@code SONIA_HOME} and {@link #QUICK_STOP}. */
    public static Map<String, String> env(Path home) {
        final Map<String, String> env = new java.util.HashMap<>(QUICK_STOP);
        env.put("SONIA_HOME", home.toString());
        return env;
    }

    private TestHomes() {}
}
