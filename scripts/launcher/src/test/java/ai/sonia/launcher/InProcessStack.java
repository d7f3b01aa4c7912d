package ai.sonia.launcher;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import ai.sonia.runtime.ServiceModule;
import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.testing.FreePorts;
import ai.sonia.runtime.testing.TestHomes;

/**
 * The six real service modules in this JVM, each on a free port, with a config file of the test's
 * choosing. A service can be stopped and started again on its port, as if its process died and came back.
 */
final class InProcessStack implements AutoCloseable {

    private final Map<String, SoniaServer> servers = new ConcurrentHashMap<>();
    private final Map<String, Integer> ports = new HashMap<>();
    private final StackConfig config;
    private final Thread control;

    private static InProcessStack shared;

    /**
     * One stack with the default config, booted once per test JVM for the test classes that walk its surface
     * (each route, each method) rather than change what it is; stopped when the JVM exits.
     */
    static synchronized InProcessStack shared() {
        if (shared == null) {
            shared = new InProcessStack("shared", "{}");
            Runtime.getRuntime().addShutdownHook(new Thread(shared::close, "shared-stack-close"));
        }
        return shared;
    }

    InProcessStack(String name, String configJson) {
        this(TestHomes.create(name), configJson);
    }

    /** The stack on an existing home (a restored one, say); {@code configJson} null keeps its config file. */
    InProcessStack(Path home, String configJson) {
        try {
            Files.createDirectories(home.resolve("config"));
            if (configJson != null) {
                Files.writeString(home.resolve("config/sonia.json"), configJson);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        // No Ollama here: the router answers with its extractive provider at once instead of waiting.
        final Map<String, String> env = new HashMap<>(TestHomes.env(home));
        env.put("OLLAMA_BASE_URL", "http://127.0.0.1:1");
        final StackConfig base = StackConfig.load(env);
        // Every service must know the others' ports before any of them binds: picked ports, and the whole stack
        // again on fresh ones if one was taken in between (FreePorts).
        try {
            config = FreePorts.retrying(() -> {
                ports.clear();
                ports.putAll(FreePorts.pick(StackMain.modules().keySet()));
                final StackConfig attempt = base.withPorts(ports);
                for (SoniaServer server : StackMain.start(attempt, List.copyOf(StackMain.modules().values()))) {
                    servers.put(server.spec().name(), server);
                }
                return attempt;
            });
        } catch (Exception e) {
            throw new IllegalStateException("the stack did not start", e);
        }
        // Like StackMain: the control directory's requests (restart, backup snapshots) reach these servers.
        control = new Thread(new StackControl(home.resolve("run/control"), config, StackMain.modules().keySet(),
                                              StackMain.modules(), servers), "in-process-control");
        control.setDaemon(true);
        control.start();
    }

    int port(String service) {
        return ports.get(service);
    }

    java.util.Collection<SoniaServer> servers() {
        return servers.values();
    }

    StackConfig config() {
        return config;
    }

    void start(String service) {
        final ServiceModule module = StackMain.modules().get(service);
        try {
            servers.put(service, FreePorts.startOrClose(module.newServer(config)));
        } catch (Exception e) {
            throw new IllegalStateException(service + " did not start", e);
        }
    }

    void stop(String service) {
        servers.remove(service).close();
    }

    @Override
    public void close() {
        control.interrupt();
        servers.values().parallelStream().forEach(SoniaServer::close);
    }
}
