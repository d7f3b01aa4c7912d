package ai.sonia.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import java.time.Duration;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.common.AggregatedHttpResponse;

import ai.sonia.gateway.v1.GatewayServiceGrpc;
import ai.sonia.gateway.v1.GetLimitationsRequest;
import ai.sonia.runtime.Errors;
import ai.sonia.runtime.Stack;
import ai.sonia.runtime.client.SoniaChannels;
import ai.sonia.runtime.testing.RedisServerExtension;
import ai.sonia.runtime.testing.SoniaServiceExtension;
import ai.sonia.runtime.testing.TestCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import redis.clients.jedis.UnifiedJedis;

/**
 * The gateway's shared rate limits live in Redis ({@code shared.engine: redis}). While Redis cannot serve, a request
 * is refused as the dependency's trouble (503 with the UNAVAILABLE envelope, gRPC UNAVAILABLE, both naming the
 * engine), never as the gateway's internal error, and it is served again as soon as Redis is back.
 */
class SharedEngineOutageTest {

    @RegisterExtension
    static final RedisServerExtension redis = new RedisServerExtension();

    private SoniaServiceExtension gateway;
    private ManagedChannel channel;

    @AfterEach
    void stop() {
        if (channel != null) {
            SoniaChannels.close(channel);
        }
        if (gateway != null) {
            gateway.close();
        }
    }

    private String start() {
        gateway = GatewayHomes.alone("{}", "\"shared\":{\"engine\":\"redis\",\"redis\":{\"url\":\"" + redis.url()
                                           + "\"}},").start();
        final String token = TestCredentials.userToken(gateway.stackConfig(), "default", "alice");
        channel = SoniaChannels.forTarget("127.0.0.1:" + gateway.port(), Stack.GATEWAY, TestCredentials.bearer(token));
        return token;
    }

    @Test
    void whileRedisIsDownRequestsAreUnavailableAndServedAgainOnceItIsBack() throws Exception {
        final String token = start();
        final WebClient alice = TestCredentials.webClient("http://127.0.0.1:" + gateway.port(), token);
        assertThat(alice.get("/api/limitations").aggregate().join().status().code()).isEqualTo(200);
        redis.stop();
        try {
            assertUnavailable(alice.get("/api/limitations").aggregate().join());
            assertGrpcUnavailable();
        } finally {
            redis.restart();
        }
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100))
               .until(() -> alice.get("/api/limitations").aggregate().join().status().code() == 200);
        GatewayServiceGrpc.newBlockingStub(channel).getLimitations(GetLimitationsRequest.getDefaultInstance());
    }

    @Test
    void whileRedisIsBusyWithALongScriptRequestsAreUnavailable() throws Exception {
        final String token = start();
        final WebClient alice = TestCredentials.webClient("http://127.0.0.1:" + gateway.port(), token);
        final UnifiedJedis admin = redis.client();
        admin.configSet("lua-time-limit", "50");
        // A script that never ends: after lua-time-limit Redis answers every other call BUSY until it is killed.
        final Thread busy = new Thread(() -> {
            try (UnifiedJedis own = redis.client()) {
                own.eval("while true do end", 0);
            } catch (RuntimeException killed) {
                // SCRIPT KILL ends it with an error reply.
            }
        });
        busy.start();
        try {
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50)).until(() -> {
                try {
                    admin.ping();
                    return false;
                } catch (RuntimeException e) {
                    return e.getMessage() != null && e.getMessage().startsWith("BUSY");
                }
            });
            assertUnavailable(alice.get("/api/limitations").aggregate().join());
            assertGrpcUnavailable();
        } finally {
            admin.scriptKill();
            busy.join(10_000);
        }
        assertThat(alice.get("/api/limitations").aggregate().join().status().code()).isEqualTo(200);
    }

    private static void assertUnavailable(AggregatedHttpResponse response) {
        assertThat(response.status().code()).isEqualTo(503);
        assertThat(response.contentUtf8()).contains("\"code\":\"UNAVAILABLE\"", "\"engine\":\"redis\"")
                                          .doesNotContain("internal error", "Jedis", "Exception");
    }

    private void assertGrpcUnavailable() {
        final StatusRuntimeException refused = catchThrowableOfType(
                () -> GatewayServiceGrpc.newBlockingStub(channel).getLimitations(GetLimitationsRequest.getDefaultInstance()),
                StatusRuntimeException.class);
        assertThat(refused.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(Errors.metadata(refused, "engine")).isEqualTo("redis");
    }
}
