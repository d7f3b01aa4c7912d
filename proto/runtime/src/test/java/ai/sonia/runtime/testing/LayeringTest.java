package ai.sonia.runtime.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;

class LayeringTest {

    private static Path module(String... files) throws Exception {
        final Path module = TestHomes.create("layering");
        for (int i = 0; i < files.length; i += 2) {
            final Path file = module.resolve("src/main/java/ai/sonia/demo").resolve(files[i]);
            Files.createDirectories(file.getParent());
            Files.writeString(file, files[i + 1]);
        }
        return module;
    }

    @Test
    void everyTransportUseInDomainOrStoreIsListed() throws Exception {
        final Path module = module(
                "domain/Clean.java", "package ai.sonia.demo.domain;\nimport java.util.List;\nclass Clean {}\n",
                "domain/Dirty.java", "package ai.sonia.demo.domain;\nimport io.grpc.Status;\nclass Dirty {}\n",
                "store/Inline.java", "package ai.sonia.demo.store;\nclass Inline {\n  Object o =\n"
                                     + "    com.linecorp.armeria.common.HttpStatus.OK;\n}\n",
                "domain/Words.java", "package ai.sonia.demo.domain;\n/** Not io.grpc.Status: see */\nclass Words {\n"
                                     + "  // io.grpc.Status\n  String s = \"io.grpc.Status\"; char q = '\"';\n"
                                     + "  String t = \"\"\"\n    com.linecorp.armeria.Server\n    \"\"\";\n}\n",
                "grpc/Adapter.java", "package ai.sonia.demo.grpc;\nimport io.grpc.Status;\nclass Adapter {}\n");
        assertThatThrownBy(() -> Layering.assertDomainFree(module, "demo"))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("(2 uses)")
                .hasMessageContaining("src/main/java/ai/sonia/demo/domain/Dirty.java:2: io.grpc.Status")
                .hasMessageContaining("src/main/java/ai/sonia/demo/store/Inline.java:4: com.linecorp.armeria.common.HttpStatus.OK")
                .message().doesNotContain("Words").doesNotContain("Adapter").doesNotContain("Clean");
    }

    @Test
    void aCleanDomainPasses() throws Exception {
        Layering.assertDomainFree(module("domain/Clean.java", "package ai.sonia.demo.domain;\nclass Clean {}\n"), "demo");
    }

    @Test
    void aModuleWithoutDomainOrStoreIsAMistake() throws Exception {
        assertThatThrownBy(() -> Layering.assertDomainFree(module(), "demo"))
                .isInstanceOf(AssertionError.class).hasMessageContaining("no [domain, store] package");
    }

    @Test
    void codeOnlyKeepsLines() {
        assertThat(Layering.codeOnly("a /* x\ny */ b\n\"s\" c // d\ne")).isEqualTo("a \n b\n c \ne");
    }
}
