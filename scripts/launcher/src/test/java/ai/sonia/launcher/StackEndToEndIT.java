package ai.sonia.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import ai.sonia.runtime.Stack;
import ai.sonia.runtime.testing.FreePorts;
import ai.sonia.runtime.testing.TestHomes;

/**
 * The packaged stack, started as a user starts it (one JVM, {@code StackMain}), on free ports: every
 * service healthy, a correlation id followed across services into their log files, envelopes for bad
 * requests, and a graceful stop that frees every port.
 */
class StackEndToEndIT {

    private static final ObjectMapper mapper = new ObjectMapper();
    private static final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private static final Map<String, Integer> ports = new LinkedHashMap<>();
    private static Path home;
    private static Process stack;
    private static String adminToken;

    @BeforeAll
    static void startStack() throws Exception {
        home = TestHomes.create("e2e");
        stack = FreePorts.retrying(StackEndToEndIT::launch);
        adminToken = loginAsFirstStartAdmin();
    }

    /** The stack JVM on freshly picked ports, once every service answers; fails if it exits (a port taken). */
    private static Process launch() throws IOException {
        final Path launcher = Path.of(System.getenv().getOrDefault("SONIA_LAUNCHER_DIR", "target"));
        final ProcessBuilder pb = new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Djava.io.tmpdir=" + home,
                "-cp", launcher.resolve("sonia-launcher.jar") + java.io.File.pathSeparator + launcher.resolve("lib") + "/*",
                "ai.sonia.launcher.StackMain");
        pb.environment().put("SONIA_HOME", home.toString());
        ports.clear();
        ports.putAll(FreePorts.pick(Stack.SERVICES.stream().map(ai.sonia.runtime.ServiceSpec::name).toList()));
        ports.forEach((service, port) -> pb.environment().put("SONIA_" + service.toUpperCase() + "_PORT",
                                                              String.valueOf(port)));
        pb.redirectErrorStream(true).redirectOutput(home.resolve("stack.out").toFile());
        final Process started = pb.start();
        try {
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(
                    () -> ports.keySet().stream().allMatch(StackEndToEndIT::healthy) || !started.isAlive());
        } catch (RuntimeException e) {
            started.destroyForcibly();
            throw e;
        }
        if (!started.isAlive()) {
            throw new IllegalStateException("stack exited: " + Files.readString(home.resolve("stack.out")));
        }
        return started;
    }

    /** What a new owner does: reads the password the first start wrote (never logged), logs in. */
    private static String loginAsFirstStartAdmin() throws IOException {
        final Path passwordFile = home.resolve("secrets/admin-password");
        assertThat(java.nio.file.Files.getPosixFilePermissions(passwordFile))
                .containsExactlyInAnyOrder(java.nio.file.attribute.PosixFilePermission.OWNER_READ,
                                           java.nio.file.attribute.PosixFilePermission.OWNER_WRITE);
        final String password = Files.readString(passwordFile).trim();
        try {
            final HttpResponse<String> login = http.send(
                    HttpRequest.newBuilder(uri(ports.get("gateway"), "/api/auth/login"))
                               .header("content-type", "application/json")
                               .POST(HttpRequest.BodyPublishers.ofString(
                                       "{\"username\":\"admin\",\"password\":\"" + password + "\"}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(login.statusCode()).as(login.body()).isEqualTo(200);
            assertThat(Files.readString(home.resolve("stack.out"))).doesNotContain(password);
            return mapper.readTree(login.body()).at("/data/access_token").asText();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Test
    void theOperatorsCredentialFromScriptsSoniaReachesEveryService() throws Exception {
        final ProcessBuilder pb = new ProcessBuilder("bash", Path.of("..", "sonia").toString(), "token");
        pb.environment().put("SONIA_HOME", home.toString());
        final Process token = pb.start();
        final String operator = new String(token.getInputStream().readAllBytes()).trim();
        assertThat(token.waitFor()).as(new String(token.getErrorStream().readAllBytes())).isZero();
        for (int port : ports.values()) {
            final HttpRequest.Builder request = HttpRequest.newBuilder(uri(port, "/status")).timeout(Duration.ofSeconds(10))
                                                           .header("authorization", "Bearer " + operator);
            assertThat(http.send(request.build(), HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
            final HttpRequest.Builder anonymous = HttpRequest.newBuilder(uri(port, "/status")).timeout(Duration.ofSeconds(10));
            assertThat(http.send(anonymous.build(), HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(401);
        }
    }

    @Test
    void theStackWritesThePortsAndTheLinesUpPrints() throws Exception {
        // scripts/sonia up starts no JVM but this one: it reads the ports and what it prints from run/.
        assertThat(Files.readAllLines(home.resolve("run/ports")))
                .containsExactlyElementsOf(ports.entrySet().stream().map(e -> e.getKey() + " " + e.getValue()).toList());
        await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(home.resolve("run/notice")));
        assertThat(Files.readString(home.resolve("run/tls")))
                .contains("TLS: https://localhost:" + ports.get("gateway") + " ").contains("SHA-256 ")
                .contains("trust: curl --cacert " + home.resolve("secrets/tls/ca.pem"));
    }

    @Test
    void helpPrintsNoCredential() throws Exception {
        final ProcessBuilder pb = new ProcessBuilder("bash", Path.of("..", "sonia").toString(), "help");
        pb.environment().put("SONIA_HOME", home.toString());
        final Process help = pb.start();
        final String text = new String(help.getInputStream().readAllBytes());
        assertThat(help.waitFor()).isZero();
        assertThat(text).contains("usage: scripts/sonia").contains("$(scripts/sonia token)")
                        .doesNotContain("eyJ"); // a JWT's header starts so
    }

    @AfterAll
    static void stopStack() throws Exception {
        if (stack != null && stack.isAlive()) {
            stack.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void aScraperWithTheMetricsTokenReadsRouterSessionApprovalAndToolSeries() throws Exception {
        post(ports.get("gateway"), "/v1/chat", "{\"text\":\"What is my cat called?\"}");
        post(ports.get("gateway"), "/v1/action", "{\"tool_name\":\"file.list\",\"arguments\":{\"path\":\".\"}}");
        final HttpResponse<String> waits = post(ports.get("gateway"), "/v1/action",
                                                "{\"tool_name\":\"shell.run\",\"arguments\":{\"argv\":[\"rm\",\"x\"]}}");
        assertThat(waits.body()).as("shell.run rm waits for a person").contains("APPROVAL_REQUIRED");
        assertThat(post(ports.get("pipecat"), "/session/start", "{}").statusCode()).isEqualTo(200);
        final String token = Files.readString(home.resolve("secrets/metrics-token")).trim();
        final Map<String, List<String>> series = Map.of(
                "router", List.of("sonia_router_tokens_total{", "sonia_router_cost_micros_total{",
                                  "sonia_router_provider_latency_seconds_count{"),
                "openclaw", List.of("sonia_openclaw_tool_calls_seconds_count{"),
                "evaos", List.of("sonia_evaos_approvals_total{change=\"CREATED\""),
                "pipecat", List.of("sonia_pipecat_sessions_live "),
                "gateway", List.of("sonia_downstream_circuit_state"));
        for (var entry : series.entrySet()) {
            final HttpResponse<String> metrics = http.send(
                    HttpRequest.newBuilder(uri(ports.get(entry.getKey()), "/metrics"))
                               .header("authorization", "Bearer " + token).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(metrics.statusCode()).as(entry.getKey()).isEqualTo(200);
            for (String name : entry.getValue()) {
                assertThat(metrics.body()).as(entry.getKey() + " /metrics").contains(name);
            }
        }
    }

    private static HttpResponse<String> post(int port, String path, String json) throws Exception {
        return http.send(HttpRequest.newBuilder(uri(port, path)).timeout(Duration.ofSeconds(30))
                                    .header("authorization", "Bearer " + adminToken)
                                    .header("content-type", "application/json")
                                    .POST(HttpRequest.BodyPublishers.ofString(json)).build(),
                         HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void everyServiceAnswersHealthzInTheContractShape() throws Exception {
        for (var entry : ports.entrySet()) {
            final JsonNode body = mapper.readTree(get(entry.getValue(), "/healthz", Map.of()).body());
            assertThat(body.get("ok").asBoolean()).isTrue();
            assertThat(body.get("service").asText()).isEqualTo(entry.getKey());
            assertThat(body.get("timestamp").asText()).endsWith("Z");
        }
    }

    @Test
    void aCorrelationIdIsEchoedAndLoggedByEveryServiceTheRequestTouched() throws Exception {
        final String id = "e2e-" + System.nanoTime();
        final HttpResponse<String> response = get(ports.get("gateway"), "/v1/deps", Map.of("X-Correlation-ID", id));
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("x-correlation-id")).hasValue(id);
        final JsonNode envelope = mapper.readTree(response.body());
        assertThat(envelope.get("correlation_id").asText()).isEqualTo(id);
        assertThat(envelope.at("/data/all_ok").asBoolean()).as(response.body()).isTrue();
        // /v1/deps probes the five other services over gRPC health: all six logged the id.
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            for (String service : ports.keySet()) {
                final Path log = home.resolve("logs").resolve(service + ".log");
                assertThat(log).exists();
                final List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8).stream()
                                                 .filter(l -> l.contains(id)).toList();
                assertThat(lines).as(service + " logged " + id).isNotEmpty();
                for (String line : lines) {
                    final JsonNode json = mapper.readTree(line);
                    assertThat(json.get("correlation_id").asText()).isEqualTo(id);
                    assertThat(json.get("timestamp").asText()).matches("\\d{4}-\\d\\d-\\d\\dT.*Z");
                }
            }
        });
    }

    @Test
    void aTraceparentSentToTheGatewayJoinsTheSpansOfEveryService() throws Exception {
        final String traceId = String.format("%032x", System.nanoTime());
        final HttpResponse<String> response = get(ports.get("gateway"), "/v1/deps",
                                                  Map.of("traceparent", "00-" + traceId + "-00f067aa0ba902b7-01"));
        assertThat(response.statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            for (String service : ports.keySet()) {
                final List<JsonNode> spans = new java.util.ArrayList<>();
                for (String line : Files.readAllLines(home.resolve("logs").resolve(service + ".log"))) {
                    if (line.contains(traceId)) {
                        spans.add(mapper.readTree(line));
                    }
                }
                assertThat(spans).as(service + " has spans of trace " + traceId).isNotEmpty();
                assertThat(spans).allSatisfy(span -> assertThat(span.get("trace_id").asText()).isEqualTo(traceId));
            }
        });
    }

    @Test
    void unknownRoutesAndMalformedBodiesAnswerEnvelopes() throws Exception {
        for (int port : ports.values()) {
            final HttpResponse<String> unknown = get(port, "/no/such/route", Map.of());
            assertThat(unknown.statusCode()).isEqualTo(404);
            assertThat(mapper.readTree(unknown.body()).at("/error/code").asText()).isEqualTo("NOT_FOUND");
        }
        final HttpResponse<String> malformed = http.send(
                HttpRequest.newBuilder(uri(ports.get("gateway"), "/v1/chat"))
                           .header("content-type", "application/json")
                           .header("authorization", "Bearer " + adminToken)
                           .POST(HttpRequest.BodyPublishers.ofString("{\"text\": ")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(malformed.statusCode()).isEqualTo(400);
        assertThat(mapper.readTree(malformed.body()).at("/error/code").asText()).isEqualTo("INVALID_ARGUMENT");
    }

    @Test
    void zzzGracefulStopFreesEveryPort() throws Exception {
        stack.destroy(); // SIGTERM
        assertThat(stack.waitFor(30, TimeUnit.SECONDS)).isTrue();
        for (int port : ports.values()) {
            try (ServerSocket ignored = new ServerSocket(port, 50, java.net.InetAddress.getLoopbackAddress())) {
                // bound: the port is free
            }
        }
        assertThat(Files.readString(home.resolve("logs").resolve("gateway.log"))).contains("gateway stopped");
    }

    private static boolean healthy(String service) {
        try {
            return get(ports.get(service), "/healthz", Map.of()).statusCode() == 200;
        } catch (Exception e) {
            return false;
        }
    }

    private static HttpResponse<String> get(int port, String path, Map<String, String> headers) throws Exception {
        final HttpRequest.Builder request = HttpRequest.newBuilder(uri(port, path)).timeout(Duration.ofSeconds(10));
        if (adminToken != null) {
            request.header("authorization", "Bearer " + adminToken);
        }
        headers.forEach(request::header);
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static java.net.URI uri(int port, String path) {
        return java.net.URI.create("http://127.0.0.1:" + port + path);
    }
}
