package ai.sonia.runtime.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.linecorp.armeria.common.AggregatedHttpResponse;

import ai.sonia.common.v1.Role;
import ai.sonia.memory.v1.GetMemoryRequest;
import ai.sonia.memory.v1.MemoryServiceGrpc;
import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.Stack;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.client.SoniaChannels;
import ai.sonia.runtime.testing.TestCredentials;
import ai.sonia.runtime.testing.TestHomes;
import io.grpc.ManagedChannel;

/**
 * An API key is looked up in the gateway's account store, a database: the front door does it on a blocking thread,
 * never on the event loop (which serves every other connection of the server meanwhile), for a request and for an
 * open stream's periodic check alike.
 */
class ApiKeyLookupTest {

    private static final String GOOD = Authenticator.API_KEY_PREFIX + "k1_secret";
    private static final List<String> lookups = new CopyOnWriteArrayList<>();
    private static volatile boolean revoked;
    private static Authenticator authenticator;
    private static SoniaServer server;

    @BeforeAll
    static void start() {
        final StackConfig config = TestHomes.config("api-key-lookup", "memory");
        authenticator = Authenticator.of(config).withApiKeys(bearer -> {
            lookups.add(Thread.currentThread().getName());
            if (!bearer.equals(GOOD) || revoked) {
                throw new AuthenticationException("unknown or revoked API key");
            }
            return new Principal(Principal.Kind.API_KEY, "acme", "k1", Role.ROLE_USER, "");
        });
        server = SoniaServer.builder(Stack.MEMORY, config).authenticator(authenticator)
                            .addService(new AuthEdgeTest.WhoAmI()).build().start();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void aRequestWithAnApiKeyIsServedAfterALookupOffTheEventLoop() {
        lookups.clear();
        final String base = "http://127.0.0.1:" + server.port();
        final AggregatedHttpResponse served = TestCredentials.webClient(base, GOOD).get("/v1/memories/a").aggregate()
                                                             .join();
        assertThat(served.status().code()).isEqualTo(200);
        assertThat(served.contentUtf8()).contains("acme/k1");
        assertThat(TestCredentials.webClient(base, Authenticator.API_KEY_PREFIX + "k2_wrong").get("/v1/memories/a")
                                  .aggregate().join().status().code()).isEqualTo(401);
        final ManagedChannel channel = SoniaChannels.forTarget("127.0.0.1:" + server.port(), Stack.MEMORY,
                                                               TestCredentials.bearer(GOOD));
        try {
            assertThat(MemoryServiceGrpc.newBlockingStub(channel)
                                        .getMemory(GetMemoryRequest.newBuilder().setName("memories/a").build())
                                        .getName()).startsWith("acme/k1");
        } finally {
            SoniaChannels.close(channel);
        }
        assertThat(lookups).hasSize(3).allSatisfy(thread -> assertThat(thread).contains("blocking"));
    }

    @Test
    void anOpenStreamsCheckOfItsApiKeyNeverWaitsForTheLookup() {
        final Principal principal = authenticator.authenticate(GOOD);
        final BooleanSupplier stillValid = authenticator.notRevoked(GOOD, principal);
        lookups.clear();
        final String caller = Thread.currentThread().getName();
        try {
            assertThat(stillValid.getAsBoolean()).isTrue();
            await().atMost(Duration.ofSeconds(10)).until(() -> !lookups.isEmpty());
            revoked = true;
            // The deleted key is seen at a later check; every lookup ran on another thread than the one asking.
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20))
                   .until(() -> !stillValid.getAsBoolean());
            assertThat(lookups).doesNotContain(caller).allSatisfy(thread -> assertThat(thread).contains("blocking"));
        } finally {
            revoked = false;
        }
    }
}
