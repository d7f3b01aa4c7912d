package ai.sonia.runtime.status;

import static ai.sonia.runtime.status.EngineReadinessTest.awaitReadyz;
import static ai.sonia.runtime.status.EngineReadinessTest.builder;
import static ai.sonia.runtime.status.EngineReadinessTest.readyz;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import com.fasterxml.jackson.databind.JsonNode;

import com.linecorp.armeria.client.WebClient;

import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.testing.RedisServerExtension;
import ai.sonia.runtime.testing.TestHomes;

/** {@code /readyz} with {@code shared.engine: redis}: unready while the real redis-server is stopped. */
class RedisReadinessTest {

    @RegisterExtension
    static final RedisServerExtension redis = new RedisServerExtension();

    @Test
    void aRedisThatStopsMakesTheServiceUnreadyUntilItIsBack() throws Exception {
        final StackConfig config = TestHomes.config("engine-redis", "evaos").withEnv(redis.env());
        try (SoniaServer server = builder(config).build().start()) {
            final WebClient http = WebClient.of("http://127.0.0.1:" + server.port());
            assertThat(readyz(http).get("ok").asBoolean()).isTrue();
            redis.stop();
            final JsonNode down = awaitReadyz(http, false);
            assertThat(down.get("reasons").get(0).asText()).startsWith("redis " + redis.url() + " cannot be reached");
            redis.restart();
            awaitReadyz(http, true);
        }
    }
}
