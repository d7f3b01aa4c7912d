package ai.sonia.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.UUID;

import org.junit.jupiter.api.Test;

class OwnerOnlyFilesTest {

    @Test
    void anAtomicWriteReplacesTheFileWholeOwnerOnlyAndLeavesNoTemporaryFile() throws Exception {
        final Path dir = OwnerOnlyFiles.directory(Path.of("target", "owner-only-" + UUID.randomUUID()).toAbsolutePath());
        final Path file = dir.resolve("ports");
        Files.writeString(file, "old, readable by all\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));

        OwnerOnlyFiles.writeAtomically(file, "gateway 7000\n");

        assertThat(file).hasContent("gateway 7000");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        try (var left = Files.list(dir)) {
            assertThat(left).containsExactly(file);
        }
    }
}
