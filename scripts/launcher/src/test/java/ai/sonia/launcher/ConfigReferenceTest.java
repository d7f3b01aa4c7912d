package ai.sonia.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.MediaType;

import ai.sonia.codegen.ConfigReference;
import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.Stack;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.testing.TestCredentials;
import ai.sonia.runtime.testing.TestHomes;

/**
 * The configuration as a reader meets it: {@code docs/config.md} is what codegen's {@link ConfigReference} makes
 * of the config records every service declares (checked here, the one module with all six on its class path), and
 * the README's example config is valid and starts memory on a ledger the default config built.
 */
class ConfigReferenceTest {

    private static final Path ROOT = Path.of("../..").toAbsolutePath().normalize();

    @Test
    void theConfigReferenceIsFresh() throws Exception {
        final String generated = ConfigReference.render();
        final Path doc = ROOT.resolve("docs/config.md");
        if (Boolean.getBoolean("sonia.regenerate")) {
            Files.writeString(doc, generated);
        }
        assertThat(Files.exists(doc) ? Files.readString(doc) : "")
                .as("docs/config.md is stale: run `scripts/sonia config doc > docs/config.md` and commit it")
                .isEqualTo(generated);
        assertThat(generated).contains("| `services.memory.embedding.provider` | string | `bundled` | "
                                       + "`SONIA_MEMORY_EMBEDDING_PROVIDER` |");
    }

    @Test
    void theReadmeExampleConfigStartsMemoryOnAnExistingLedger() throws Exception {
        final Path home = TestHomes.create("readme-config");
        // Memory alone: no EVA-OS to ask about training locks.
        final Map<String, String> env = Map.of("SONIA_HOME", home.toString(), "SONIA_MEMORY_TRAINING_ENFORCE", "false");
        // A ledger built by the default config, holding a vector of the bundled model.
        final StackConfig first = StackConfig.load(env).withPorts(Map.of("memory", 0));
        try (SoniaServer memory = StackMain.modules().get("memory").newServer(first).start()) {
            final WebClient client = TestCredentials.webClient("http://127.0.0.1:" + memory.port(),
                                                               TestCredentials.userToken(first, "acme", "ann"));
            assertThat(client.execute(HttpRequest.of(HttpMethod.POST, "/v1/memories:store", MediaType.JSON,
                                                     "{\"memory\":{\"text\":\"My cat is called Miso.\"}}"))
                             .aggregate().join().status().code()).isEqualTo(200);
        }
        Files.createDirectories(home.resolve("config"));
        Files.writeString(home.resolve("config/sonia.json"), readmeConfig());
        final StackConfig readme = StackConfig.load(env).withPorts(Map.of("memory", 0));
        assertThat(readme.file()).contains(home.resolve("config/sonia.json"));
        assertThat(readme.target(Stack.ROUTER)).isEqualTo("127.0.0.1:7010");
        try (SoniaServer memory = StackMain.modules().get("memory").newServer(readme).start()) {
            assertThat(memory.port()).isPositive();
        }
    }

    /** The JSON block of the README's "Configure it" section. */
    static String readmeConfig() throws Exception {
        final String readme = Files.readString(ROOT.resolve("README.md"));
        final String section = readme.substring(readme.indexOf("## Configure it"));
        final Matcher json = Pattern.compile("```json\n(.*?)```", Pattern.DOTALL).matcher(section);
        assertThat(json.find()).as("a ```json block in README's Configure it").isTrue();
        return json.group(1);
    }
}
