package ai.sonia.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import org.junit.jupiter.api.Test;

import ai.sonia.runtime.testing.TestHomes;

/**
 * A password file ({@code store.postgres.passwordFile}, {@code shared.redis.passwordFile}) is read only when
 * private: owner-only, or, when root owns it, as a Kubernetes Secret is mounted for a pod's fsGroup (0440).
 */
class PasswordFileTest {

    @Test
    void anOwnerOnlyFileOrARootSecretReadableByItsGroupIsReadAndNothingLooser() throws Exception {
        final Path file = TestHomes.create("password-file").resolve("password");
        Files.writeString(file, "s3cret\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        assertThat(OwnerOnlyFiles.readPassword(file, "k")).isEqualTo("s3cret");
        for (String looser : new String[] {"rw-r--r--", "rw-rw----", "r--r--r--"}) {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(looser));
            assertThatThrownBy(() -> OwnerOnlyFiles.readPassword(file, "k")).as(looser)
                    .hasMessageContaining("must be owner-only (chmod 600)").hasMessageNotContaining("s3cret");
        }
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("r--r-----"));
        if ("root".equals(Files.getOwner(file).getName())) {
            assertThat(OwnerOnlyFiles.readPassword(file, "k")).isEqualTo("s3cret"); // a mounted Secret
        } else {
            assertThatThrownBy(() -> OwnerOnlyFiles.readPassword(file, "k")).hasMessageContaining("owner-only");
        }
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        Files.writeString(file, " \n");
        assertThatThrownBy(() -> OwnerOnlyFiles.readPassword(file, "k")).hasMessageContaining("is empty");
    }
}
