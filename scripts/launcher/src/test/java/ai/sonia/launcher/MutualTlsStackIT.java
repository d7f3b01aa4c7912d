package ai.sonia.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.util.List;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.ObjectMapper;

import com.linecorp.armeria.client.ClientFactory;
import com.linecorp.armeria.client.WebClient;

import ai.sonia.runtime.Stack;

/**
 * The whole stack with mutual TLS between services: every service serves TLS, every call between them shows
 * the stack's certificate, and a chat that crosses the gateway, memory and the router still works; a caller
 * without a certificate reaches a service's probes only.
 */
class MutualTlsStackIT {

    private static final ObjectMapper mapper = new ObjectMapper();

    @Test
    void servicesCallEachOtherOverMutualTls() throws Exception {
        try (InProcessStack stack = new InProcessStack("mtls", "{\"tls\":{\"mutual\":true},"
                                                               + "\"services\":{\"gateway\":{\"auth\":{\"bcryptCost\":4}}}}")) {
            final HttpClient http = HttpClient.newHttpClient();
            final String password = Files.readString(stack.config().home().resolve("secrets/admin-password")).trim();
            final HttpResponse<String> login = http.send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + stack.port("gateway") + "/api/auth/login"))
                               .header("content-type", "application/json")
                               .POST(HttpRequest.BodyPublishers.ofString(
                                       "{\"username\":\"admin\",\"password\":\"" + password + "\"}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(login.statusCode()).as(login.body()).isEqualTo(200);
            final String token = mapper.readTree(login.body()).at("/data/access_token").asText();

            // The gateway probes the five others over gRPC health: through mutual TLS. The first handshakes of a
            // cold JVM can outlast the 2 s health deadline, so the probe is asked until it settles.
            final java.util.concurrent.atomic.AtomicInteger attempts = new java.util.concurrent.atomic.AtomicInteger();
            final java.util.concurrent.atomic.AtomicReference<String> last = new java.util.concurrent.atomic.AtomicReference<>();
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30))
                                     .pollInterval(java.time.Duration.ofMillis(500)).until(() -> {
                attempts.incrementAndGet();
                last.set(http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + stack.port("gateway")
                                                                     + "/v1/deps"))
                                              .header("authorization", "Bearer " + token).build(),
                                   HttpResponse.BodyHandlers.ofString()).body());
                return mapper.readTree(last.get()).at("/data/all_ok").asBoolean();
            });
            System.out.println("mutual TLS: /v1/deps all ok after " + attempts.get() + " attempt(s)");

            final HttpResponse<String> chat = http.send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + stack.port("gateway") + "/v1/chat"))
                               .header("content-type", "application/json").header("authorization", "Bearer " + token)
                               .POST(HttpRequest.BodyPublishers.ofString("{\"text\":\"hello over mutual TLS\"}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(chat.statusCode()).as(chat.body()).isEqualTo(200);
            assertThat(mapper.readTree(chat.body()).at("/data/provenance/degraded").size()).as(chat.body()).isZero();

            // The gateway's REST relays (one client factory, one TLS context for the four) show its certificate.
            for (String path : List.of("/v1/approvals", "/v1/memories")) {
                final HttpResponse<String> relayed = http.send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + stack.port("gateway") + path))
                                   .header("authorization", "Bearer " + token).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(relayed.statusCode()).as(path + " " + relayed.body()).isEqualTo(200);
            }

            // Over TLS, a caller with the CA but no certificate is refused by memory, but for its probes.
            final var ca = stack.config().home().resolve("secrets/tls/ca.pem").toFile();
            try (ClientFactory noCertificate = ClientFactory.builder().tlsCustomizer(b -> b.trustManager(ca)).build()) {
                final WebClient memory = WebClient.builder("https://localhost:" + stack.port(Stack.MEMORY.name()))
                                                  .factory(noCertificate).build();
                assertThat(memory.get("/healthz").aggregate().join().status().code()).isEqualTo(200);
                assertThat(memory.prepare().get("/v1/memories").header("authorization", "Bearer " + token).execute()
                                 .aggregate().join().status().code()).isEqualTo(401);
            }
        }
    }
}
