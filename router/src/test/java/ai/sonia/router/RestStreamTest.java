package ai.sonia.router;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import ai.sonia.router.FakeProvider.BreakAfter;
import ai.sonia.router.FakeProvider.Dialect;
import ai.sonia.router.FakeProvider.Trickle;

/**
 * The router's {@code POST /v1/chat:stream} over REST: Server-Sent Events from the same method as the gRPC
 * stream, read incrementally by a real HTTP client (the JDK's), with the edge's authentication, correlation id
 * and error envelope.
 */
class RestStreamTest {

    private static final String ANSWER = "The quick brown fox jumps over the lazy dog";
    private static final ObjectMapper mapper = new ObjectMapper();

    private static final FakeProvider ollama = new FakeProvider(Dialect.OLLAMA, ANSWER);
    private static final FakeProvider openai = new FakeProvider(Dialect.OPENAI, ANSWER);
    private static final RouterFixture router = new RouterFixture(
            "{\"deployments\":["
            + "{\"name\":\"local\",\"provider\":\"ollama\",\"model\":\"llama3.2\",\"baseUrl\":\"" + ollama.baseUrl()
            + "\",\"timeoutMs\":2000},"
            + "{\"name\":\"gpt\",\"provider\":\"openai\",\"model\":\"gpt-test\",\"baseUrl\":\"" + openai.baseUrl()
            + "\",\"apiKeyEnv\":\"OPENROUTER_API_KEY\",\"timeoutMs\":2000}],"
            + "\"aliases\":{\"default\":[\"local\"]}}",
            Map.of("OPENROUTER_API_KEY", "k"));
    private static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @AfterAll
    static void tearDown() {
        router.close();
        ollama.close();
        openai.close();
    }

    private record Event(String name, JsonNode data) {}

    private static HttpRequest post(String body, String token) {
        final HttpRequest.Builder request =
                HttpRequest.newBuilder(URI.create(router.uri() + "/v1/chat:stream"))
                           .header("content-type", "application/json")
                           .header("x-correlation-id", "sse-test-1")
                           .POST(HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            request.header("authorization", "Bearer " + token);
        }
        return request.build();
    }

    private static String chat(String model) {
        return "{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"ROLE_USER\",\"content\":\"tell me\"}]}";
    }

    /** Reads the next event (its {@code event:} name, "message" when none, and its JSON data), or null at the end. */
    private static Event next(BufferedReader lines) throws IOException {
        String name = "message";
        final StringBuilder data = new StringBuilder();
        String line;
        while ((line = lines.readLine()) != null) {
            if (line.isEmpty()) {
                if (!data.isEmpty()) {
                    return new Event(name, mapper.readTree(data.toString()));
                }
                continue;
            }
            if (line.startsWith("event:")) {
                name = line.substring("event:".length()).strip();
            } else if (line.startsWith("data:")) {
                data.append(line.substring("data:".length()).strip());
            }
        }
        return null;
    }

    private static List<Event> readAll(InputStream body) throws IOException {
        final List<Event> events = new ArrayList<>();
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8))) {
            Event e;
            while ((e = next(lines)) != null) {
                events.add(e);
            }
        }
        return events;
    }

    @Test
    void tokensComeAsEventsThenTheFinalMessage() throws Exception {
        final HttpResponse<InputStream> response =
                http.send(post(chat("local"), router.service.adminToken()), HttpResponse.BodyHandlers.ofInputStream());
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("content-type")).hasValueSatisfying(
                t -> assertThat(t).startsWith("text/event-stream"));
        assertThat(response.headers().firstValue("x-correlation-id")).hasValue("sse-test-1");
        final List<Event> events = readAll(response.body());
        final StringBuilder text = new StringBuilder();
        events.subList(0, events.size() - 1).forEach(e -> text.append(e.data().path("delta").asText()));
        assertThat(events.size()).isGreaterThan(2);
        assertThat(text.toString()).isEqualTo(ANSWER);
        final JsonNode last = events.get(events.size() - 1).data().path("final");
        assertThat(last.path("content").asText()).isEqualTo(ANSWER);
        assertThat(last.path("deployment").asText()).isEqualTo("local");
        assertThat(last.path("usage").path("prompt_tokens").asLong()).isEqualTo(FakeProvider.PROMPT_TOKENS);
    }

    @Test
    void withoutACredentialTheEdgeAnswersUnauthenticated() throws Exception {
        final HttpResponse<String> response = http.send(post(chat("local"), null), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(401);
        assertThat(mapper.readTree(response.body()).path("error").path("code").asText()).isEqualTo("UNAUTHENTICATED");
    }

    @Test
    void aRequestRefusedBeforeTheFirstTokenIsTheEnvelopeWithItsStatus() throws Exception {
        final HttpResponse<String> unknown = http.send(post(chat("no-such-model"), router.service.adminToken()),
                                                       HttpResponse.BodyHandlers.ofString());
        assertThat(unknown.statusCode()).isEqualTo(400);
        final JsonNode envelope = mapper.readTree(unknown.body());
        assertThat(envelope.path("ok").asBoolean()).isFalse();
        assertThat(envelope.path("error").path("code").asText()).isEqualTo("INVALID_ARGUMENT");
        assertThat(envelope.path("correlation_id").asText()).isEqualTo("sse-test-1");

        final HttpResponse<String> typo = http.send(post("{\"modle\":\"local\"}", router.service.adminToken()),
                                                    HttpResponse.BodyHandlers.ofString());
        assertThat(typo.statusCode()).isEqualTo(400);
        assertThat(mapper.readTree(typo.body()).path("error").path("message").asText()).contains("modle");
    }

    @Test
    void aStreamThatBreaksEndsWithAnErrorEventCarryingTheEnvelope() throws Exception {
        ollama.then(new BreakAfter(3, ANSWER));
        final HttpResponse<InputStream> response =
                http.send(post(chat("local"), router.service.adminToken()), HttpResponse.BodyHandlers.ofInputStream());
        assertThat(response.statusCode()).isEqualTo(200);
        final List<Event> events = readAll(response.body());
        final Event last = events.get(events.size() - 1);
        assertThat(events.subList(0, events.size() - 1)).allSatisfy(e -> assertThat(e.name()).isEqualTo("message"));
        assertThat(last.name()).isEqualTo("error");
        assertThat(last.data().path("ok").asBoolean()).isFalse();
        assertThat(last.data().path("error").path("code").asText()).isEqualTo("UNAVAILABLE");
        assertThat(last.data().path("error").path("message").asText()).contains("broke after its first token");
        assertThat(last.data().path("error").path("details").path("metadata").path("stream_broken").asText())
                .isEqualTo("true");
        assertThat(last.data().path("correlation_id").asText()).isEqualTo("sse-test-1");
    }

    @Test
    void aClientThatGoesAwayStopsTheProviderCall() throws Exception {
        openai.then(new Trickle(200, Duration.ofMillis(20)));
        final HttpResponse<InputStream> response =
                http.send(post(chat("gpt"), router.service.adminToken()), HttpResponse.BodyHandlers.ofInputStream());
        final InputStream body = response.body();
        final BufferedReader lines = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8));
        assertThat(next(lines).data().path("delta").asText()).isEqualTo("t1 ");
        assertThat(next(lines).data().path("delta").asText()).isEqualTo("t2 ");
        body.close(); // the client goes away after two tokens

        // The provider's response is abandoned by the router long before its 200 tokens were written.
        final int written = openai.trickleAbandoned().get(10, TimeUnit.SECONDS);
        assertThat(written).isLessThan(200);
    }
}
