package ai.sonia.runtime.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.testing.RedisServerExtension;

/** The {@code shared} section: local by default, one Redis client per JVM, the password only from an owner-only file. */
class SharedEngineTest {

    @RegisterExtension
    static final RedisServerExtension redis = new RedisServerExtension();

    private static StackConfig config(Map<String, String> extra) {
        final Map<String, String> env = new HashMap<>(extra);
        env.put("SONIA_HOME", Path.of("target", "shared-" + UUID.randomUUID()).toAbsolutePath().toString());
        return StackConfig.load(env, Map.of());
    }

    @Test
    void localIsTheDefault() {
        assertThat(SharedEngine.redis(config(Map.of()))).isEmpty();
    }

    @Test
    void redisIsOneClientPerJvm() {
        final var first = SharedEngine.redis(config(redis.env())).orElseThrow();
        assertThat(first.ping()).isEqualTo("PONG");
        assertThat(SharedEngine.redis(config(redis.env()))).containsSame(first);
    }

    @Test
    void aPasswordInTheUrlOrAReadableFileIsRefused() throws Exception {
        final Map<String, String> inUrl = Map.of("SONIA_SHARED_ENGINE", "redis",
                                                 "SONIA_SHARED_REDIS_URL", "redis://:hunter2@127.0.0.1:" + redis.port());
        assertThatThrownBy(() -> SharedEngine.redis(config(inUrl)))
                .hasMessageContaining("passwordFile").hasMessageNotContaining("hunter2");
        final StackConfig withFile = config(Map.of("SONIA_SHARED_ENGINE", "redis", "SONIA_SHARED_REDIS_URL",
                                                   redis.url() + "/1", "SONIA_SHARED_REDIS_PASSWORD_FILE", "redis-pw"));
        final Path file = Files.createDirectories(withFile.home()).resolve("redis-pw");
        Files.writeString(file, "hunter2\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        assertThatThrownBy(() -> SharedEngine.redis(withFile)).hasMessageContaining("chmod 600")
                                                              .hasMessageNotContaining("hunter2");
        assertThatThrownBy(() -> SharedEngine.redis(config(Map.of("SONIA_SHARED_ENGINE", "etcd"))))
                .hasMessageContaining("local or redis");
    }
}
