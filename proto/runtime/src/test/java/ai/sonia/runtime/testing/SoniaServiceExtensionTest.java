package ai.sonia.runtime.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.Stack;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;

/** The test seam itself: a fresh home and server per test here (instance field), config, restart, clean-up. */
class SoniaServiceExtensionTest {

    private static final List<Path> homes = new CopyOnWriteArrayList<>();

    @RegisterExtension
    final SoniaServiceExtension evaos =
            SoniaServiceExtension.of(Stack.EVAOS, config -> SoniaServer.builder(Stack.EVAOS, config).build())
                                 .config(Map.of("answer", 42));

    @AfterAll
    static void homesAreDeletedAfterPassingTests() {
        assertThat(homes).hasSize(2).allSatisfy(home -> assertThat(home).doesNotExist());
    }

    @Test
    void aFreshHomeUnderTargetWithTheConfig() throws Exception {
        homes.add(evaos.home());
        assertThat(evaos.home()).startsWith(Path.of("target", "test-homes").toAbsolutePath());
        assertThat(Files.readString(evaos.home().resolve("config/sonia.json")))
                .isEqualTo("{\"services\":{\"evaos\":{\"answer\":42}}}");
        assertThat(evaos.stackConfig().service("evaos").path("answer").asInt()).isEqualTo(42);
        assertThat(evaos.rest(evaos.adminToken()).get("/status").aggregate().join().status().code()).isEqualTo(200);
    }

    @Test
    void aRestartKeepsHomeAndPortAndTheChannelReconnects() {
        homes.add(evaos.home());
        final var health = evaos.stub(HealthGrpc::newBlockingStub, evaos.userToken("acme", "ann"));
        final int port = evaos.port();
        assertThat(health.check(HealthCheckRequest.getDefaultInstance()).getStatus())
                .isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
        evaos.restart();
        assertThat(evaos.port()).isEqualTo(port);
        assertThat(health.check(HealthCheckRequest.getDefaultInstance()).getStatus())
                .isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
        assertThat(evaos.grpcUri().toString()).isEqualTo("http://127.0.0.1:" + port);
    }
}
