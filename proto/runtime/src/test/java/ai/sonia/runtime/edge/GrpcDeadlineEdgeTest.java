package ai.sonia.runtime.edge;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.RequestHeaders;

import ai.sonia.memory.v1.GetMemoryRequest;
import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.Stack;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.testing.TestCredentials;
import ai.sonia.runtime.testing.TestHomes;

/**
 * A deadline of a millisecond or less ({@code grpc-timeout: 1m}) can pass before the gRPC call takes the
 * request over; it must still end as a gRPC status (DEADLINE_EXCEEDED), never as an HTTP 503 page that
 * clients read as a retriable UNAVAILABLE. Sent raw over HTTP/2, as any gRPC client sends it.
 */
class GrpcDeadlineEdgeTest {

    private static SoniaServer server;
    private static WebClient h2;

    @BeforeAll
    static void start() {
        // Hundreds of calls of one credential in a few seconds: this test is about deadlines, not request limits.
        final StackConfig config = TestHomes.config("deadline-edge", "memory").withEnv(
                Map.of("SONIA_MEMORY_RATE_LIMITS_PER_PRINCIPAL_REQUESTS", "100000000",
                       "SONIA_MEMORY_RATE_LIMITS_PER_IP_REQUESTS", "100000000"));
        server = SoniaServer.builder(Stack.MEMORY, config)
                            .useBlockingTaskExecutor(true) // the hop to another thread widens the race
                            .addService(new ScriptedMemoryService())
                            .build().start();
        h2 = WebClient.builder("h2c://127.0.0.1:" + server.port())
                      .addHeader(HttpHeaderNames.AUTHORIZATION, "Bearer " + TestCredentials.adminToken(config))
                      .build();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void tinyDeadlinesAlwaysEndWithAGrpcStatus() {
        final byte[] message = GetMemoryRequest.newBuilder().setName("memories/ok").build().toByteArray();
        final ByteBuffer frame = ByteBuffer.allocate(5 + message.length).put((byte) 0).putInt(message.length).put(message);
        final Map<String, Integer> outcomes = new TreeMap<>();
        final String[] timeouts = {"1m", "2m", "5m", "500u", "1u"};
        for (int round = 0; round < 60; round++) {
            final CompletableFuture<?>[] calls = new CompletableFuture<?>[timeouts.length * 4];
            for (int i = 0; i < calls.length; i++) {
                final RequestHeaders headers =
                        RequestHeaders.builder(HttpMethod.POST, "/sonia.memory.v1.MemoryService/GetMemory")
                                      .contentType(MediaType.parse("application/grpc"))
                                      .add(HttpHeaderNames.TE, "trailers")
                                      .add("grpc-timeout", timeouts[i % timeouts.length])
                                      .build();
                calls[i] = h2.execute(headers, HttpData.wrap(frame.array())).aggregate().thenAccept(response -> {
                    final String outcome = outcome(response);
                    synchronized (outcomes) {
                        outcomes.merge(outcome, 1, Integer::sum);
                    }
                });
            }
            CompletableFuture.allOf(calls).join();
        }
        System.out.println("tiny deadlines, 1200 calls: " + outcomes);
        // Every answer is a gRPC one: OK when the call beat its deadline, DEADLINE_EXCEEDED otherwise.
        assertThat(outcomes.keySet()).isSubsetOf("grpc-status 0", "grpc-status 4");
        assertThat(outcomes).containsKey("grpc-status 4");
    }

    private static String outcome(AggregatedHttpResponse response) {
        final MediaType type = response.contentType();
        if (response.status().code() != 200 || type == null || !type.subtype().startsWith("grpc")) {
            return "HTTP " + response.status().code() + ' ' + type;
        }
        String status = response.trailers().get("grpc-status");
        if (status == null) {
            status = response.headers().get("grpc-status"); // trailers-only
        }
        return "grpc-status " + status;
    }
}
