package ai.sonia.codegen;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import ai.sonia.runtime.ConfigKey;
import ai.sonia.runtime.ConfigSchema;

/**
 * The config reference renders a config record as its rows: path, type, default, environment, meaning. Its
 * freshness against docs/config.md is checked by the launcher's ConfigReferenceTest, the one module that has every
 * service on its class path (the services depend on codegen, so codegen cannot depend on them).
 */
class ConfigReferenceTest {

    record Root(@ConfigKey Section section) {}

    @ConfigKey("A section.")
    record Section(@ConfigKey(value = "How many.", def = "4") int count,
                   @ConfigKey(value = "Where.", shown = "this machine's", env = "SONIA_OLD_NAME") List<String> hosts,
                   @ConfigKey("Inner.") Inner inner,
                   @ConfigKey(value = "By name.", element = "One value.") Map<String, String> names) {}

    record Inner(@ConfigKey(value = "On or off.", def = "true") boolean on) {}

    @Test
    void aRecordRendersAsOneRowPerKey() {
        final String doc = ConfigReference.render(ConfigSchema.of(Root.class));
        assertThat(doc).startsWith("# Configuration reference\n").contains(
                "| `section` | object |  |  | A section. |\n"
                + "| `section.count` | integer | `4` | `SONIA_SECTION_COUNT` | How many. |\n"
                + "| `section.hosts` | list of strings | `this machine's` | `SONIA_SECTION_HOSTS`, `SONIA_OLD_NAME` "
                + "| Where. |\n"
                + "| `section.inner` | object |  |  | Inner. |\n"
                + "| `section.inner.on` | boolean | `true` | `SONIA_SECTION_INNER_ON` | On or off. |\n"
                + "| `section.names` | map |  |  | By name. |\n"
                + "| `section.names.<name>` | string |  |  | One value. |\n");
    }
}
