package ai.sonia.openclaw.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import ai.sonia.runtime.errors.DomainException;


class WorkspaceTest {

    private Workspace workspace;
    private Path outside;

    @BeforeEach
    void setUp() throws Exception {
        final Path base = Path.of("target", "ws-test-" + UUID.randomUUID()).toAbsolutePath();
        workspace = new Workspace(base.resolve("workspace"));
        outside = Files.createDirectories(base.resolve("outside"));
        Files.writeString(outside.resolve("secret.txt"), "secret");
        Files.createDirectories(workspace.root().resolve("sub"));
        Files.createSymbolicLink(workspace.root().resolve("link-out"), outside);
        Files.createSymbolicLink(workspace.root().resolve("file-out"), outside.resolve("secret.txt"));
        Files.createSymbolicLink(workspace.root().resolve("dangling"), outside.resolve("missing"));
        Files.createSymbolicLink(workspace.root().resolve("link-in"), workspace.root().resolve("sub"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"../outside/secret.txt", "sub/../../outside", "..", "/etc/passwd", "~/x",
                            "link-out/secret.txt", "link-out", "file-out", "link-out/new-file", "dangling",
                            "sub/..\\..\\x", "a\0b"})
    void escapesAreRefused(String path) {
        assertThatThrownBy(() -> workspace.resolve(path, "arguments.path"))
                .isInstanceOfSatisfying(DomainException.class,
                                        e -> assertThat(e.field()).isEqualTo("arguments.path"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", ".", "sub", "sub/new.txt", "new/dir/file", "link-in/x", "./sub/./a"})
    void pathsInsideResolveUnderTheRoot(String path) {
        assertThat(workspace.resolve(path, "arguments.path").startsWith(workspace.root())).isTrue();
    }
}
