package ai.sonia.openclaw;

import static ai.sonia.openclaw.OpenClawEndToEndTest.call;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import ai.sonia.openclaw.v1.ExecuteToolResponse;

/**
 * Running programs unconfined takes an explicit {@code "jail": "none"}, and then {@code /status} says so as a
 * warning (which {@code scripts/sonia up} and {@code doctor} print), and every result says it was not jailed.
 */
class JailNoneTest {

    @Test
    void anExplicitNoneRunsProgramsUnconfinedAndSaysSo() throws Exception {
        try (OpenClawTestStack stack = new OpenClawTestStack("{\"services\":{\"openclaw\":{\"jail\":\"none\"}}}",
                                                             Map.of())) {
            final JsonNode status = new ObjectMapper().readTree(
                    stack.rest(stack.adminToken()).get("/status").aggregate().join().contentUtf8());
            final JsonNode config = status.path("data").path("config");
            assertThat(config.path("jail").asText()).isEqualTo("none");
            assertThat(config.path("jail_state").asText()).contains("UNCONFINED");
            assertThat(config.path("warning").asText()).contains("UNCONFINED").contains("apt-get install -y bubblewrap");
            assertThat(config.path("tools_off").asText()).isEmpty();
            final ExecuteToolResponse ls = stack.tools(stack.adminToken())
                                                .executeTool(call("shell.run", "{\"argv\":[\"ls\"]}").build());
            assertThat(ls.getJailed()).isFalse();
            assertThat(ls.getOutput().getFieldsOrThrow("jailed").getBoolValue()).isFalse();
        }
    }

    @Test
    void aWorkspaceHoldingSoniaHomeIsAStartUpError() throws Exception {
        final java.nio.file.Path home = java.nio.file.Path.of("target", "jail-" + java.util.UUID.randomUUID())
                                                          .toAbsolutePath();
        java.nio.file.Files.createDirectories(home.resolve("config"));
        java.nio.file.Files.writeString(home.resolve("config/sonia.json"),
                                        "{\"services\":{\"openclaw\":{\"workspace\":\"" + home.getParent() + "\"}}}");
        final ai.sonia.runtime.StackConfig config = ai.sonia.runtime.StackConfig.load(
                Map.of("SONIA_HOME", home.toString()));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> OpenClawConfig.from(config))
                                       .hasMessageContaining("contains SONIA_HOME");
    }

    @Test
    void anUnknownJailModeIsAStartUpError() throws Exception {
        final java.nio.file.Path home = java.nio.file.Path.of("target", "jail-" + java.util.UUID.randomUUID());
        java.nio.file.Files.createDirectories(home.resolve("config"));
        java.nio.file.Files.writeString(home.resolve("config/sonia.json"),
                                        "{\"services\":{\"openclaw\":{\"jail\":\"off\"}}}");
        final ai.sonia.runtime.StackConfig config = ai.sonia.runtime.StackConfig.load(
                Map.of("SONIA_HOME", home.toAbsolutePath().toString()));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> OpenClawConfig.from(config))
                                       .hasMessageContaining("services.openclaw.jail");
    }
}
