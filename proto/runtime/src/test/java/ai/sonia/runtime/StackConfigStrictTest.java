package ai.sonia.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;

import ai.sonia.runtime.testing.TestHomes;

/** The config file is checked against one schema: unknown keys, wrong types, unread files and port fights refuse. */
class StackConfigStrictTest {

    /** A memory section as a module would declare it. */
    private static final Map<String, ConfigSchema> SCHEMAS = Map.of(
            "memory", ConfigSchema.object("memory")
                    .field("readers", ConfigSchema.integer("readers", 4))
                    .field("fullSync", ConfigSchema.bool("sync", true))
                    .field("embedding", ConfigSchema.object("embedding")
                            .field("provider", ConfigSchema.string("provider", "bundled"))
                            .field("dimensions", ConfigSchema.integer("dims", null))));

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
                        "bnd: unknown key; did you mean \"bind\"? (known here: bind, portOffset, http, tls, services)",
                        "services.memroy: unknown key; did you mean \"memory\"? (known here: gateway, router, memory, "
                        + "pipecat, openclaw, evaos)",
                        "services.memory.embedding.dimension: unknown key; did you mean \"dimensions\"? "
                        + "(known here: provider, dimensions)"));
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
    void noFileMeansEveryDefault() throws IOException {
        final StackConfig config = load(home(null), Map.of());
        assertThat(config.file()).isEmpty();
        assertThat(config.port(Stack.GATEWAY)).isEqualTo(7000);
    }
}
