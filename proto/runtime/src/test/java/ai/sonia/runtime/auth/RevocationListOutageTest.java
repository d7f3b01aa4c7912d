package ai.sonia.runtime.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.common.AggregatedHttpResponse;

import ai.sonia.common.v1.Role;
import ai.sonia.memory.v1.GetMemoryRequest;
import ai.sonia.memory.v1.MemoryServiceGrpc;
import ai.sonia.runtime.Errors;
import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.Stack;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.client.SoniaChannels;
import ai.sonia.runtime.testing.RedisServerExtension;
import ai.sonia.runtime.testing.TestCredentials;
import ai.sonia.runtime.testing.TestHomes;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.providers.PooledConnectionProvider;

/**
 * The revocation list on a Redis that stops answering: it is read on its own thread, never on the thread that checks
 * a token (a hanging Redis must not stall an event loop); the last list read holds for a while, and after that a
 * service refuses tokens UNAVAILABLE (it cannot tell whether they were revoked) until it can read the list again.
 */
class RevocationListOutageTest {

    private static final long HOUR_MS = 3_600_000L;
    private static final Duration PROMPTLY = Duration.ofSeconds(15);

    @RegisterExtension
    static final RedisServerExtension redis = new RedisServerExtension();

    @Test
    void theListIsReadOnItsOwnThreadNeverOnTheCallers() {
        final List<String> readers = new CopyOnWriteArrayList<>();
        final UnifiedJedis recording = new UnifiedJedis(
                new PooledConnectionProvider(new HostAndPort("127.0.0.1", redis.port())), 1, Duration.ofSeconds(2)) {
            @Override
            public String get(String key) {
                readers.add(Thread.currentThread().getName());
                return super.get(key);
            }
        };
        try {
            final RevocationList list = RevocationList.onRedis(recording);
            readers.clear(); // the first read, made by the constructor before the list is handed out
            final String caller = Thread.currentThread().getName();
            // Checked over several refresh periods: every read is the refresher's.
            await().atMost(PROMPTLY).pollInterval(Duration.ofMillis(10)).until(() -> {
                assertThat(list.test("sid-" + UUID.randomUUID())).isFalse();
                return readers.size() >= 3;
            });
            assertThat(readers).doesNotContain(caller).containsOnly("revocation-list");
        } finally {
            recording.close();
        }
    }

    @Test
    void whileRedisCannotBeReadTheLastListHoldsThenTokensAreRefusedUntilItIsReadAgain() throws Exception {
        final RevocationList list = RevocationList.onRedis(redis.client());
        final String sid = "sid-" + UUID.randomUUID();
        list.revoke(sid, System.currentTimeMillis() + HOUR_MS);
        redis.stop();
        try {
            // The last list read is in force at first: the logout still holds, others pass.
            assertThat(list.test(sid)).isTrue();
            assertThat(list.test("sid-other")).isFalse();
            await().atMost(PROMPTLY).pollInterval(Duration.ofMillis(100)).untilAsserted(
                    () -> assertThatThrownBy(() -> list.test("sid-other"))
                            .isInstanceOf(RevocationListUnavailableException.class)
                            .hasMessageContaining("cannot be read"));
        } finally {
            redis.restart();
        }
        await().atMost(PROMPTLY).pollInterval(Duration.ofMillis(100)).ignoreException(
                RevocationListUnavailableException.class).untilAsserted(() -> assertThat(list.test("sid-other")).isFalse());
    }

    @Test
    void aServiceRefusesTokensUnavailableWhileItsListCannotBeRead() throws Exception {
        final StackConfig config = TestHomes.config("revocation-outage", "memory").withEnv(redis.env());
        final SoniaServer server = SoniaServer.builder(Stack.MEMORY, config).addService(new AuthEdgeTest.WhoAmI())
                                              .build().start();
        final String token = TestCredentials.token(config, "acme", "ann", Role.ROLE_USER);
        final ManagedChannel channel = SoniaChannels.forTarget("127.0.0.1:" + server.port(), Stack.MEMORY,
                                                               TestCredentials.bearer(token));
        final WebClient rest = TestCredentials.webClient("http://127.0.0.1:" + server.port(), token);
        try {
            assertThat(rest.get("/v1/memories/a").aggregate().join().status().code()).isEqualTo(200);
            redis.stop();
            try {
                await().atMost(PROMPTLY).pollInterval(Duration.ofMillis(200))
                       .until(() -> rest.get("/v1/memories/a").aggregate().join().status().code() == 503);
                final AggregatedHttpResponse refused = rest.get("/v1/memories/a").aggregate().join();
                assertThat(refused.contentUtf8()).contains("\"code\":\"UNAVAILABLE\"", "\"engine\":\"redis\"",
                                                           "credentials cannot be checked now")
                                                 .doesNotContain("Jedis", "Exception");
                assertThatThrownBy(() -> MemoryServiceGrpc.newBlockingStub(channel).getMemory(
                        GetMemoryRequest.newBuilder().setName("memories/a").build()))
                        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
                            assertThat(Errors.metadata(e, "engine")).isEqualTo("redis");
                        });
                // Probes need no credential and are not refused.
                assertThat(WebClient.of("http://127.0.0.1:" + server.port()).get("/healthz").aggregate().join()
                                    .status().code()).isEqualTo(200);
            } finally {
                redis.restart();
            }
            await().atMost(PROMPTLY).pollInterval(Duration.ofMillis(200))
                   .until(() -> rest.get("/v1/memories/a").aggregate().join().status().code() == 200);
        } finally {
            SoniaChannels.close(channel);
            server.close();
        }
    }
}
