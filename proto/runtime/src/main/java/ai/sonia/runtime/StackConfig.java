package ai.sonia.runtime;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

import com.linecorp.armeria.common.annotation.Nullable;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The stack's configuration: one optional JSON file ({@code $SONIA_HOME/config/sonia.json}, or the
 * file named by {@code SONIA_CONFIG}) with environment overrides. Every knob has a safe default, so
 * nothing is required to start. Immutable; parsed once in {@code main}.
 *
 * <pre>{@code
 * { "bind": "127.0.0.1", "portOffset": 0,
 *   "services": { "memory": { "port": 7020, "target": "127.0.0.1:7020", ... } } }
 * }</pre>
 * Environment: {@code SONIA_HOME}, {@code SONIA_CONFIG}, {@code SONIA_BIND}, {@code SONIA_PORT_OFFSET},
 * {@code SONIA_<SERVICE>_PORT}, {@code SONIA_<SERVICE>_TARGET}.
 */
public final class StackConfig {

    private static final ObjectMapper mapper = new ObjectMapper();

    private final Path home;
    private final String bindAddress;
    private final int portOffset;
    private final ObjectNode root;
    private final Map<String, String> env;
    private final Map<String, Integer> portOverrides;

    private StackConfig(Path home, ObjectNode root, Map<String, String> env, Map<String, Integer> portOverrides) {
        this.home = home;
        this.root = root;
        this.env = Map.copyOf(env);
        this.portOverrides = Map.copyOf(portOverrides);
        bindAddress = firstNonEmpty(env.get("SONIA_BIND"), root.path("bind").asText(null), "127.0.0.1");
        portOffset = parseInt("SONIA_PORT_OFFSET",
                              firstNonEmpty(env.get("SONIA_PORT_OFFSET"), root.path("portOffset").asText(null), "0"));
        if (portOffset < 0 || portOffset > 50_000) {
            throw new IllegalArgumentException("portOffset: " + portOffset + " (expected: 0..50000)");
        }
    }

    /** Loads the configuration from the process environment. */
    public static StackConfig load() {
        return load(System.getenv());
    }

    /** Loads the configuration from the given environment (tests pass their own). */
    public static StackConfig load(Map<String, String> env) {
        final Path home = Path.of(firstNonEmpty(env.get("SONIA_HOME"), null, ".")).toAbsolutePath().normalize();
        final String configured = env.get("SONIA_CONFIG");
        final Path file = configured != null && !configured.isEmpty() ? Path.of(configured)
                                                                      : home.resolve("config/sonia.json");
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        if (Files.isRegularFile(file)) {
            try {
                final JsonNode parsed = mapper.readTree(file.toFile());
                if (!(parsed instanceof ObjectNode object)) {
                    throw new IllegalArgumentException(file + ": expected a JSON object");
                }
                root = object;
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
            }
        } else if (configured != null && !configured.isEmpty()) {
            throw new IllegalArgumentException("SONIA_CONFIG: " + file + " does not exist");
        }
        return new StackConfig(home, root, env, Map.of());
    }

    /** A copy where the given services listen on the given ports (0 for any free port). */
    public StackConfig withPorts(Map<String, Integer> ports) {
        final Map<String, Integer> merged = new HashMap<>(portOverrides);
        merged.putAll(ports);
        return new StackConfig(home, root, env, merged);
    }

    /** A copy with extra environment entries, for tests. */
    public StackConfig withEnv(Map<String, String> extra) {
        final Map<String, String> merged = new HashMap<>(env);
        merged.putAll(extra);
        return new StackConfig(home, root, merged, portOverrides);
    }

    /** The directory holding {@code config/}, {@code data/} and {@code logs/}. */
    public Path home() {
        return home;
    }

    /** Where a service keeps its durable data: {@code $SONIA_HOME/data/<service>}. */
    public Path dataDir(String service) {
        return home.resolve("data").resolve(service);
    }

    /** The address every service binds to: loopback unless configured otherwise. */
    public String bindAddress() {
        return bindAddress;
    }

    /** The port a service listens on. */
    public int port(ServiceSpec spec) {
        final Integer override = portOverrides.get(spec.name());
        if (override != null) {
            return override;
        }
        final String fromEnv = env.get("SONIA_" + spec.name().toUpperCase(Locale.ROOT) + "_PORT");
        if (fromEnv != null && !fromEnv.isEmpty()) {
            return parseInt("SONIA_" + spec.name().toUpperCase(Locale.ROOT) + "_PORT", fromEnv);
        }
        final JsonNode configured = service(spec.name()).get("port");
        return configured != null ? configured.asInt() : spec.port() + portOffset;
    }

    /** Where a service is reached, as {@code host:port}. */
    public String target(ServiceSpec spec) {
        final String fromEnv = env.get("SONIA_" + spec.name().toUpperCase(Locale.ROOT) + "_TARGET");
        if (fromEnv != null && !fromEnv.isEmpty()) {
            return fromEnv;
        }
        final JsonNode configured = service(spec.name()).get("target");
        if (configured != null && configured.isTextual()) {
            return configured.asText();
        }
        final String host = "0.0.0.0".equals(bindAddress) || "::".equals(bindAddress) ? "127.0.0.1" : bindAddress;
        return host + ':' + port(spec);
    }

    /** The service's own section of the file, empty when absent. */
    public JsonNode service(String name) {
        final JsonNode node = root.path("services").path(name);
        return node.isObject() ? node : JsonNodeFactory.instance.objectNode();
    }

    /** A top-level section of the file ({@code "http"}, ...), empty when absent. */
    public JsonNode section(String name) {
        final JsonNode node = root.path(name);
        return node.isObject() ? node : JsonNodeFactory.instance.objectNode();
    }

    /** An environment variable, or null. */
    @Nullable
    public String env(String key) {
        requireNonNull(key, "key");
        final String value = env.get(key);
        return value == null || value.isEmpty() ? null : value;
    }

    private static int parseInt(String what, String value) {
        try {
            return Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(what + ": " + value + " (expected: an integer)", e);
        }
    }

    private static String firstNonEmpty(@Nullable String a, @Nullable String b, String fallback) {
        if (a != null && !a.isEmpty()) {
            return a;
        }
        return b != null && !b.isEmpty() ? b : fallback;
    }

    @Override
    public String toString() {
        return "StackConfig{home=" + home + ", bind=" + bindAddress + ", portOffset=" + portOffset + '}';
    }
}
