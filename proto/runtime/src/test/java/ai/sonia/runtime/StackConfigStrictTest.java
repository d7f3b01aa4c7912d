package ai.sonia.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import ai.sonia.runtime.testing.TestHomes;

/** The config file is checked against one schema: unknown keys, wrong types, unread files and port fights refuse. */
class StackConfigStrictTest {

    /** A memory section as a module would declare it: one record, each key once. */
    @ConfigKey("memory")
    record Memory(@ConfigKey(value = "readers", def = "4") int readers,
                  @ConfigKey(value = "sync", def = "true") boolean fullSync,
                  @ConfigKey("embedding") Embedding embedding,
                  @ConfigKey(value = "shards", element = "a shard") List<Shard> shards,
                  @ConfigKey("weights") Map<String, Double> weights) {}

    record Embedding(@ConfigKey(value = "provider", def = "bundled") String provider,
                     @ConfigKey("dims") Integer dimensions) {}

    @ConfigKey("a shard")
    record Shard(@ConfigKey("its name") String name, @ConfigKey(value = "its size", def = "7") long size) {}

    private static final Map<String, ConfigSchema> SCHEMAS = Map.of("memory", ConfigSchema.of(Memory.class));

    private static Path home(String config) throws IOException {
        final Path home = TestHomes.create("strict");
        if (config != null) {
            Files.createDirectories(home.resolve("config"));
            Files.writeString(home.resolve("config/sonia.json"), config);
        }
        return home;
    }

    private static StackConfig load(Path home, Map<String, String> extraEnv) {
        final Map<String, String> env = new java.util.HashMap<>(extraEnv);
        env.put("SONIA_HOME", home.toString());
        return StackConfig.load(env, SCHEMAS);
    }

    @Test
    void anUnknownKeyIsRefusedWithTheNearestKnownOne() throws IOException {
        final Path home = home("{\"services\": {\"memory\": {\"embeding\": {\"provider\": \"ollama\"}}}}");
        assertThatThrownBy(() -> load(home, Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("services.memory.embeding: unknown key; did you mean \"embedding\"?");
    }

    @Test
    void unknownKeysAreFoundAtEveryLevelAndAllNamedAtOnce() throws IOException {
        final Path home = home("{\"bnd\": \"0.0.0.0\", \"services\": {\"memroy\": {}, "
                               + "\"memory\": {\"embedding\": {\"dimension\": 768}}}}");
        assertThatThrownBy(() -> load(home, Map.of()))
                .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.problems()).containsExactly(
                        "bnd: unknown key; did you mean \"bind\"? (known here: bind, portOffset, http, tls, store, shutdown, shared, services)",
                        "services.memroy: unknown key; did you mean \"memory\"? (known here: gateway, router, memory, "
                        + "pipecat, openclaw, evaos)",
                        "services.memory.embedding.dimension: unknown key; did you mean \"dimensions\"? "
                        + "(known here: provider, dimensions)"));
        // Inside a list of records too.
        final Path inList = home("{\"services\": {\"memory\": {\"shards\": [{\"name\": \"a\", \"sise\": 1}]}}}");
        assertThatThrownBy(() -> load(inList, Map.of()))
                .hasMessageContaining("services.memory.shards[0].sise: unknown key; did you mean \"size\"?");
    }

    @Test
    void aSeedStyleConfigIsRefusedLoudly() throws IOException {
        final Path home = home("{\"api_gateway\": {\"port\": 7000}, \"logging\": {\"level\": \"INFO\"}}");
        assertThatThrownBy(() -> load(home, Map.of()))
                .isInstanceOfSatisfying(ConfigException.class, e -> {
                    assertThat(e.problems()).hasSize(2);
                    assertThat(e.problems().get(0))
                            .startsWith("api_gateway: unknown key; did you mean \"services.gateway\"?");
                    assertThat(e.problems().get(1))
                            .startsWith("logging: unknown key; the nearest known key is \"");
                });
    }

    @Test
    void aConfigFileUnderAnotherNameIsNotSilentlyIgnored() throws IOException {
        final Path home = home(null);
        Files.createDirectories(home.resolve("config"));
        Files.writeString(home.resolve("config/sonia-config.json"), "{\"api_gateway\": {}}");
        assertThatThrownBy(() -> load(home, Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("sonia-config.json: Sonia reads only")
                .hasMessageContaining("config/sonia.json");
    }

    @Test
    void aValueOfTheWrongTypeIsRefused() throws IOException {
        final Path home = home("{\"portOffset\": \"100\", \"services\": {\"memory\": {\"fullSync\": \"yes\"}}}");
        assertThatThrownBy(() -> load(home, Map.of()))
                .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.problems()).containsExactly(
                        "portOffset: expected an integer, found \"100\"",
                        "services.memory.fullSync: expected a boolean, found \"yes\""));
    }

    @Test
    void aServicePortAndAPortOffsetAreNeverBothApplied() throws IOException {
        final Path home = home("{\"services\": {\"memory\": {\"port\": 7020}}}");
        assertThatThrownBy(() -> load(home, Map.of("SONIA_PORT_OFFSET", "100")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("services.memory.port = 7020 (from the config file) conflicts with "
                                      + "portOffset = 100 (from the environment, SONIA_PORT_OFFSET)");
        final Path offsetInFile = home("{\"portOffset\": 100}");
        assertThatThrownBy(() -> load(offsetInFile, Map.of("SONIA_ROUTER_PORT", "7999")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("services.router.port = 7999 (from the environment, SONIA_ROUTER_PORT)");
        // Either alone is fine, and the offset shifts every contract port.
        assertThat(load(home, Map.of()).port(Stack.MEMORY)).isEqualTo(7020);
        assertThat(load(offsetInFile, Map.of()).port(Stack.MEMORY)).isEqualTo(7120);
    }

    @Test
    void theEnvironmentSetsAnyScalarKeyByOneRuleAndWins() throws IOException {
        final Path home = home("{\"services\": {\"memory\": {\"readers\": 2, \"embedding\": {\"provider\": \"x\"}}}}");
        final StackConfig config = load(home, Map.of("SONIA_MEMORY_READERS", "8",
                                                      "SONIA_MEMORY_EMBEDDING_PROVIDER", "bundled",
                                                      "SONIA_MEMORY_FULL_SYNC", "false"));
        assertThat(config.service("memory").path("readers").asInt()).isEqualTo(8);
        assertThat(config.service("memory").path("embedding").path("provider").asText()).isEqualTo("bundled");
        assertThat(config.service("memory").path("fullSync").asBoolean(true)).isFalse();
        assertThatThrownBy(() -> load(home, Map.of("SONIA_MEMORY_READERS", "many")))
                .hasMessageContaining("SONIA_MEMORY_READERS: many (expected: integer)");
    }

    @Test
    void theEnvironmentVariableOfAKeyFollowsItsPath() {
        assertThat(ConfigSchema.envVariable("services.memory.port")).isEqualTo("SONIA_MEMORY_PORT");
        assertThat(ConfigSchema.envVariable("portOffset")).isEqualTo("SONIA_PORT_OFFSET");
        assertThat(ConfigSchema.envVariable("services.pipecat.maxLiveSessions"))
                .isEqualTo("SONIA_PIPECAT_MAX_LIVE_SESSIONS");
    }

    @Test
    void aSectionBindsToItsRecordWithTheDefaultsOfItsKeys() throws IOException {
        final Path home = home("{\"services\": {\"memory\": {\"port\": 7020, \"readers\": 2, "
                               + "\"shards\": [{\"name\": \"a\"}, {\"name\": \"b\", \"size\": 9}], "
                               + "\"weights\": {\"bm25\": 1, \"vector\": 0.5}}}}");
        final Memory memory = load(home, Map.of("SONIA_MEMORY_EMBEDDING_DIMENSIONS", "768"))
                .service("memory", Memory.class);
        assertThat(memory).isEqualTo(new Memory(2, true, new Embedding("bundled", 768),
                                                List.of(new Shard("a", 7), new Shard("b", 9)),
                                                Map.of("bm25", 1.0, "vector", 0.5)));
        final Memory defaults = load(home(null), Map.of()).service("memory", Memory.class);
        assertThat(defaults).isEqualTo(new Memory(4, true, new Embedding("bundled", null), null, null));
    }

    @Test
    void aValueOfTheWrongTypeIsRefusedWhenBoundWithItsPath() throws IOException {
        // A section no module declared at load (its module is not on the class path) is checked when bound.
        final Path home = home("{\"services\": {\"memory\": {\"shards\": [{\"size\": \"big\"}]}}}");
        final StackConfig config = StackConfig.load(Map.of("SONIA_HOME", home.toString()), Map.of());
        assertThatThrownBy(() -> config.service("memory", Memory.class))
                .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.problems()).containsExactly(
                        "services.memory.shards[0].size: expected an integer, found \"big\""));
        // What only the record's Java type can refuse is refused by the binding, with the path too.
        final Path tooBig = home("{\"services\": {\"memory\": {\"readers\": 99999999999}}}");
        assertThatThrownBy(() -> load(tooBig, Map.of()).service("memory", Memory.class))
                .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.problems()).singleElement()
                        .asString().startsWith("services.memory.readers: ").contains("out of range"));
    }

    @Test
    void theSchemaOfARecordNamesTypesDescribesAndDefaultsEachKey() {
        final ConfigSchema schema = ConfigSchema.of(Memory.class);
        assertThat(schema.description()).isEqualTo("memory");
        assertThat(schema.fields().keySet()).containsExactly("readers", "fullSync", "embedding", "shards", "weights");
        assertThat(schema.fields().get("readers").type()).isEqualTo(ConfigSchema.Type.INTEGER);
        assertThat(schema.fields().get("readers").defaultValue()).isEqualTo("4");
        assertThat(schema.fields().get("embedding").fields().get("dimensions").defaultValue()).isNull();
        assertThat(schema.fields().get("shards").element().description()).isEqualTo("a shard");
        assertThat(schema.fields().get("weights").element().type()).isEqualTo(ConfigSchema.Type.NUMBER);
    }

    @Test
    void noFileMeansEveryDefault() throws IOException {
        final StackConfig config = load(home(null), Map.of());
        assertThat(config.file()).isEmpty();
        assertThat(config.port(Stack.GATEWAY)).isEqualTo(7000);
    }
}
