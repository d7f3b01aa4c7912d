package ai.sonia.runtime;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonPointer;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import com.linecorp.armeria.common.annotation.Nullable;

/**
 * The stack's configuration: one optional JSON file ({@code $SONIA_HOME/config/sonia.json}, or the
 * file named by {@code SONIA_CONFIG}) with environment overrides. Every knob has a safe default, so
 * nothing is required to start. Immutable; parsed once in {@code main}.
 *
 * <pre>{@code
 * { "bind": "127.0.0.1", "portOffset": 0,
 *   "services": { "memory": { "port": 7020, "target": "127.0.0.1:7020", ... } } }
 * }</pre>
 * Environment: {@code SONIA_HOME}, {@code SONIA_CONFIG}, and every key by the one rule {@code SONIA_<PATH>}
 * ({@link ConfigSchema}: {@code SONIA_BIND}, {@code SONIA_PORT_OFFSET}, {@code SONIA_<SERVICE>_PORT} ...). Each
 * section is bound to the record that declares its keys ({@link #service(String, Class)}, {@link Keys},
 * {@link ServiceKeys}).
 */
public final class StackConfig {

    private static final ObjectMapper mapper = new ObjectMapper();

    /** Binds checked sections to records: no unknown key, no coercion of one JSON type into another. */
    private static final ObjectMapper strict = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
            .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
            .build();

    /** The schema of each config record, made once. */
    private static final ClassValue<ConfigSchema> schemas = new ClassValue<>() {
        @Override
        @SuppressWarnings("unchecked")
        protected ConfigSchema computeValue(Class<?> type) {
            return ConfigSchema.of((Class<? extends Record>) type);
        }
    };

    /** The stack's own keys of the file; {@link #schema} adds one section per service. */
    @ConfigKey("config/sonia.json")
    record Keys(@ConfigKey(value = "The address every service binds to.", def = "127.0.0.1") String bind,
                @ConfigKey(value = "Added to every contract port (a second stack); cannot be combined with "
                                   + "services.<name>.port.", def = "0") int portOffset,
                @ConfigKey ai.sonia.runtime.edge.HttpPolicy.Keys http,
                @ConfigKey ai.sonia.runtime.tls.TlsSettings.Keys tls,
                @ConfigKey ai.sonia.runtime.store.Postgres.Keys store,
                @ConfigKey SoniaServer.Shutdown shutdown,
                @ConfigKey ai.sonia.runtime.cluster.SharedEngine.Keys shared) {}

    /** The keys every service's section has beside its own record's. */
    public record ServiceKeys(
            @ConfigKey("The port it listens on, instead of the contract's plus portOffset (refused with a portOffset).")
            Integer port,
            @ConfigKey(value = "Where the others reach it, host:port; for replicas a list, host:port,host:port (calls "
                               + "spread round-robin over those that are up).", shown = "127.0.0.1:<port>") String target,
            @ConfigKey("Fault injection for fault runs (also SONIA_<NAME>_FAULTS=rate:CODE).") FaultInjector.Keys faults,
            @ConfigKey("Requests per credential and per address that it serves: the gateway's across its replicas "
                       + "(in Redis with shared.engine redis), the others' per process; a Sonia service's own calls, "
                       + "and what the gateway forwards for a user, are not counted behind the gateway.")
            ai.sonia.runtime.limits.RateLimits.Keys rateLimits) {}

    /** The keys of {@link ServiceKeys}, which a service's own record does not hold. */
    private static final List<String> COMMON_KEYS =
            java.util.Arrays.stream(ServiceKeys.class.getRecordComponents()).map(c -> c.getName()).toList();

    private final Path home;
    @Nullable
    private final Path file;
    private final String bindAddress;
    private final int portOffset;
    private final ObjectNode root;
    private final Map<String, String> env;
    private final Map<String, Integer> portOverrides;

    private StackConfig(Path home, @Nullable Path file, ObjectNode root, Map<String, String> env,
                        Map<String, Integer> portOverrides) {
        this.home = home;
        this.file = file;
        this.root = root;
        this.env = Map.copyOf(env);
        this.portOverrides = Map.copyOf(portOverrides);
        final ObjectNode own = root.deepCopy();
        own.remove("services");
        final Keys keys = bind("", own, Keys.class, env);
        bindAddress = keys.bind().isEmpty() ? "127.0.0.1" : keys.bind();
        portOffset = keys.portOffset();
        if (portOffset < 0 || portOffset > 50_000) {
            throw new IllegalArgumentException("portOffset: " + portOffset + " (expected: 0..50000)");
        }
    }

    /** Loads the configuration from the process environment. */
    public static StackConfig load() {
        return load(System.getenv());
    }

    /**
     * Loads the configuration from the given environment (tests pass their own), checked against the schemas of
     * the service modules on the class path: an unknown key, a value of the wrong type, a config file Sonia does
     * not read, or a port that fights {@code portOffset} refuses with every problem named.
     */
    public static StackConfig load(Map<String, String> env) {
        return load(env, moduleSchemas());
    }

    /** Loads the configuration, checking service sections against the given schemas (by service name). */
    public static StackConfig load(Map<String, String> env, Map<String, ConfigSchema> serviceSchemas) {
        final Path home = Path.of(firstNonEmpty(env.get("SONIA_HOME"), null, ".")).toAbsolutePath().normalize();
        final String configured = env.get("SONIA_CONFIG");
        final Path file = configured != null && !configured.isEmpty() ? Path.of(configured)
                                                                      : home.resolve("config/sonia.json");
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        final List<String> problems = new ArrayList<>();
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
        } else {
            // A config file under another name (a seed's sonia-config.json, say) would silently do nothing.
            try (var others = Files.list(home.resolve("config"))) {
                others.filter(f -> f.getFileName().toString().endsWith(".json")).sorted().forEach(
                        f -> problems.add(f + ": Sonia reads only " + file + " (or the file named by SONIA_CONFIG); "
                                          + "rename it, then check it with scripts/sonia config check"));
            } catch (IOException ignored) {
                // no config directory: nothing to warn about
            }
        }
        final ConfigSchema schema = schema(serviceSchemas);
        schema.check("", root, problems);
        final Map<String, String> sources = new HashMap<>();
        if (problems.isEmpty()) {
            root = root.deepCopy();
            applyEnvironment(schema, "", root, env, sources);
            checkPorts(root, sources, problems);
        }
        if (!problems.isEmpty()) {
            throw new ConfigException(file, problems);
        }
        return new StackConfig(home, Files.isRegularFile(file) ? file : null, root, env, Map.of());
    }

    /**
     * The schema of the whole file: the stack's own keys, and each service's section as its module declares it
     * ({@link ServiceModule#configSchema()}; a service whose module is not on the class path keeps only the
     * keys every service has, and any others unchecked).
     */
    public static ConfigSchema schema(Map<String, ConfigSchema> serviceSchemas) {
        final ConfigSchema services = ConfigSchema.object("One section per service.");
        for (ServiceSpec spec : Stack.SERVICES) {
            services.field(spec.name(), serviceSection(spec, serviceSchemas.get(spec.name())));
        }
        return ConfigSchema.of(Keys.class).field("services", services);
    }

    private static ConfigSchema serviceSection(ServiceSpec spec, @Nullable ConfigSchema own) {
        final ConfigSchema section =
                own == null ? ConfigSchema.open("The " + spec.name() + " service (its module is not loaded here).")
                            : ConfigSchema.object(own.description());
        ConfigSchema.of(ServiceKeys.class).fields().forEach((name, key) -> section.field(
                name, "port".equals(name) ? key.shown(String.valueOf(spec.port())) : key));
        if (own != null) {
            own.fields().forEach(section::field);
        }
        return section;
    }

    /** The schemas of the service modules on the class path, by service name. */
    public static Map<String, ConfigSchema> moduleSchemas() {
        final Map<String, ConfigSchema> schemas = new HashMap<>();
        for (ServiceModule module : ServiceLoader.load(ServiceModule.class)) {
            schemas.put(module.spec().name(), module.configSchema());
        }
        return schemas;
    }

    /**
     * The one environment rule, on the tree of the section at {@code prefix} ("" for the whole file): every scalar
     * key outside maps and lists is set by its variable when that is not empty. {@code sources} (if given) learns
     * where each key set came from.
     */
    private static void applyEnvironment(ConfigSchema schema, String prefix, ObjectNode node, Map<String, String> env,
                                         @Nullable Map<String, String> sources) {
        schema.forEachScalar("", (path, leaf) -> {
            final String full = prefix.isEmpty() ? path : prefix + '.' + path;
            for (String variable : leaf.variables(full)) {
                final String value = env.get(variable);
                if (value != null && !value.isEmpty()) {
                    ConfigSchema.set(node, path, leaf.parse(variable, value));
                    if (sources != null) {
                        sources.put(full, "the environment, " + variable);
                    }
                } else if (sources != null && !sources.containsKey(full) && !at(node, path).isMissingNode()
                           && !at(node, path).isNull()) {
                    sources.put(full, "the config file");
                }
            }
        });
    }

    /** One rule for ports: the contract's port plus portOffset, unless a service names its own; never both. */
    private static void checkPorts(ObjectNode root, Map<String, String> sources, List<String> problems) {
        final int offset = at(root, "portOffset").asInt(0);
        if (offset == 0) {
            return;
        }
        for (ServiceSpec spec : Stack.SERVICES) {
            final String path = "services." + spec.name() + ".port";
            if (sources.containsKey(path)) {
                problems.add(path + " = " + at(root, path).asInt() + " (from " + sources.get(path)
                             + ") conflicts with portOffset = " + offset + " (from " + sources.get("portOffset")
                             + "): use one or the other (a service's own port is not shifted by the offset)");
            }
        }
    }

    private static JsonNode at(JsonNode root, String path) {
        JsonNode node = root;
        for (String part : path.split("\\.")) {
            node = node.path(part);
        }
        return node;
    }

    /** A copy where the given services listen on the given ports (0 for any free port). */
    public StackConfig withPorts(Map<String, Integer> ports) {
        final Map<String, Integer> merged = new HashMap<>(portOverrides);
        merged.putAll(ports);
        return new StackConfig(home, file, root, env, merged);
    }

    /** A copy with extra environment entries, for tests. */
    public StackConfig withEnv(Map<String, String> extra) {
        final Map<String, String> merged = new HashMap<>(env);
        merged.putAll(extra);
        return new StackConfig(home, file, root, merged, portOverrides);
    }

    /** The config file read, if there was one. */
    public java.util.Optional<Path> file() {
        return java.util.Optional.ofNullable(file);
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
        final Integer configured = serviceKeys(spec).port();
        return configured != null ? configured : spec.port() + portOffset;
    }

    /** Where a service is reached, as {@code host:port}. */
    public String target(ServiceSpec spec) {
        final String configured = serviceKeys(spec).target();
        if (configured != null && !configured.isEmpty()) {
            return configured;
        }
        final String host = "0.0.0.0".equals(bindAddress) || "::".equals(bindAddress) ? "127.0.0.1" : bindAddress;
        return host + ':' + port(spec);
    }

    /**
     * Every replica of a service, as {@code host:port}: its target split at commas
     * ({@code "10.0.0.5:7020,10.0.0.6:7020"}; callers spread their calls over them).
     */
    public List<String> targets(ServiceSpec spec) {
        return replicasOf(target(spec));
    }

    /** The {@code host:port} entries of a target (one, or a comma-separated list), blanks dropped. */
    public static List<String> replicasOf(String target) {
        return java.util.Arrays.stream(target.split(",")).map(String::trim).filter(t -> !t.isEmpty()).toList();
    }

    /** The keys every service's section has ({@code port}, {@code target}, {@code faults}), bound. */
    public ServiceKeys serviceKeys(ServiceSpec spec) {
        final ObjectNode common = JsonNodeFactory.instance.objectNode();
        final JsonNode section = service(spec.name());
        COMMON_KEYS.stream().filter(section::has).forEach(key -> common.set(key, section.get(key).deepCopy()));
        return bind("services." + spec.name(), common, ServiceKeys.class, env);
    }

    /**
     * The service's own section bound to its config record ({@link ServiceModule#configSchema()} is that record's
     * schema), defaults filled in: the keys every service has ({@code port}, {@code target}, {@code faults}) are
     * not part of it.
     */
    public <R extends Record> R service(String name, Class<R> type) {
        final ObjectNode section = ((ObjectNode) service(name)).deepCopy();
        section.remove(COMMON_KEYS);
        return bind("services." + name, section, type, env);
    }

    /** A top-level section ({@code "http"}, {@code "tls"}) bound to its config record, defaults filled in. */
    public <R extends Record> R section(String name, Class<R> type) {
        return bind(name, section(name).deepCopy(), type, env);
    }

    /** Binds a section with this config's environment (a test's {@link #withEnv} too) applied by the one rule. */
    private <R extends Record> R bind(String path, JsonNode section, Class<R> type, Map<String, String> env) {
        if (section instanceof ObjectNode object) {
            try {
                applyEnvironment(schemas.get(type), path, object, env, null);
            } catch (IllegalArgumentException e) {
                throw new ConfigException(file, List.of(e.getMessage()));
            }
        }
        return bind(file, path, section, type);
    }

    /** Binds {@code node}, the section at {@code path} (for messages), to its config record, defaults filled in. */
    public static <R extends Record> R bind(String path, JsonNode node, Class<R> type) {
        return bind(null, path, node, type);
    }

    private static <R extends Record> R bind(@Nullable Path file, String path, JsonNode node, Class<R> type) {
        final ConfigSchema schema = schemas.get(type);
        final List<String> problems = new ArrayList<>();
        schema.check(path, node, problems);
        if (problems.isEmpty()) {
            try {
                return strict.treeToValue(schema.withDefaults(node), type);
            } catch (JsonProcessingException e) {
                // Where the parser was: a mapping problem, or a number out of the range of its Java type.
                final StringBuilder at = new StringBuilder(path);
                if (e.getProcessor() instanceof JsonParser parser) {
                    for (JsonPointer p = parser.getParsingContext().pathAsPointer(); !p.matches(); p = p.tail()) {
                        at.append(p.getMatchingIndex() >= 0 ? "[" + p.getMatchingIndex() + ']'
                                                            : (at.length() == 0 ? "" : ".") + p.getMatchingProperty());
                    }
                }
                problems.add(at + ": " + e.getOriginalMessage());
            }
        }
        throw new ConfigException(file, problems);
    }

    /** The service's own section of the file, empty when absent. */
    public JsonNode service(String name) {
        return section(at(root, "services"), name);
    }

    /** A top-level section of the file ({@code "http"}, ...), empty when absent. */
    public JsonNode section(String name) {
        return section(root, name);
    }

    private static JsonNode section(JsonNode parent, String name) {
        final JsonNode node = parent.get(name);
        return node != null && node.isObject() ? node : JsonNodeFactory.instance.objectNode();
    }

    /** An environment variable, or null. */
    @Nullable
    public String env(String key) {
        requireNonNull(key, "key");
        final String value = env.get(key);
        return value == null || value.isEmpty() ? null : value;
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
