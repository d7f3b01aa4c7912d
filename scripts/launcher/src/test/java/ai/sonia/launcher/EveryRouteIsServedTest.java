package ai.sonia.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import com.google.protobuf.Descriptors.ServiceDescriptor;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.MediaType;

import ai.sonia.codegen.HttpRoutes;
import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.testing.TestCredentials;

/**
 * Every route the contract names is served: each {@code google.api.http} binding (additional bindings included)
 * of every service of the six, read from the descriptors, called with a valid credential and a minimal body.
 * Any answer but 404 and 405 proves the route is there (a 400 for the empty body, a 404 envelope of the method
 * itself for the placeholder id: the route matched, the thing is missing). The seed conformance suite runs on the
 * same stack ({@link SeedConformance}).
 */
class EveryRouteIsServedTest {


    private static InProcessStack stack;

    @BeforeAll
    static void start() {
        stack = InProcessStack.shared();
    }

    @Test
    void everyHttpBindingOfEveryServiceAnswersSomethingButNotFoundOrMethodNotAllowed() {
        final List<String> unserved = new ArrayList<>();
        final List<String> checked = new ArrayList<>();
        for (SoniaServer server : stack.servers()) {
            for (ServiceDescriptor service : server.grpcContract()) {
                for (HttpRoutes.Route route : HttpRoutes.of(service)) {
                    // A fresh credential each time: the walk's own logout revokes the one it sends.
                    final WebClient http = TestCredentials.webClient("http://127.0.0.1:" + server.port(),
                                                                     TestCredentials.adminToken(stack.config()));
                    final String name = server.spec().name() + ' ' + route.verb().toUpperCase() + ' ' + route.path();
                    final AggregatedHttpResponse response = call(http, route);
                    final int status = response.status().code();
                    // A refused credential would hide whether the route is there.
                    if ((status == 404 && !answeredByTheMethod(response, route)) || status == 405 || status == 401) {
                        unserved.add(name + " -> " + status + ' ' + response.contentUtf8());
                    }
                    checked.add(name);
                }
            }
        }
        assertThat(unserved).as("routes of the contract that no server serves").isEmpty();
        // The seed's routes are among those walked, so this test cannot silently cover nothing.
        assertThat(checked).contains("memory POST /v1/remember", "memory GET /v1/recall/{key}",
                                     "memory POST /v1/rag/retrieve", "router POST /v1/forecast",
                                     "router GET /v1/forecast/{tenant}", "router POST /v1/chat:stream",
                                     "gateway POST /v1/conversation/stream")
                           .hasSizeGreaterThan(50);
        // The check itself tells an unmatched path from a method's own NOT_FOUND.
        final SoniaServer memory = stack.servers().stream().filter(s -> "memory".equals(s.spec().name()))
                                        .findFirst().orElseThrow();
        final HttpRoutes.Route recall = HttpRoutes.of(memory.grpcContract().get(0)).stream()
                                                  .filter(r -> r.path().equals("/v1/recall/{key}")).findFirst()
                                                  .orElseThrow();
        final WebClient http = TestCredentials.webClient("http://127.0.0.1:" + memory.port(),
                                                         TestCredentials.adminToken(stack.config()));
        final AggregatedHttpResponse missing = http.get("/v1/recall/x").aggregate().join();
        assertThat(missing.status().code()).isEqualTo(404);
        assertThat(answeredByTheMethod(missing, recall)).as(missing.contentUtf8()).isTrue();
        final AggregatedHttpResponse unmatched = http.get("/v1/recal/x").aggregate().join();
        assertThat(unmatched.status().code()).isEqualTo(404);
        assertThat(answeredByTheMethod(unmatched, recall)).as(unmatched.contentUtf8()).isFalse();
    }

    /**
     * The seed conformance suite (issue 19): each seed route with the seed's own example request, against the
     * running stack, answering what the contract documents. On the walk's stack, to boot it once.
     */
    @Nested
    class SeedConformance {

        private final String sam = TestCredentials.userToken(stack.config(), "seedco", "sam");

        @Test
        void rememberThenRecallByKey() throws Exception {
            final JsonNode stored = json(post("memory", "/v1/remember",
                                              "{\"key\":\"favorite_color\",\"value\":\"Sam's favorite color is teal.\"}"),
                                         200);
            assertThat(stored.at("/data/memory/metadata/key").asText()).isEqualTo("favorite_color");
            assertThat(stored.at("/data/memory/name").asText()).startsWith("memories/");
            final JsonNode recalled = json(get("memory", "/v1/recall/favorite_color"), 200);
            assertThat(recalled.at("/data/text").asText()).isEqualTo("Sam's favorite color is teal.");
            assertThat(json(get("memory", "/v1/recall/no_such_key"), 404).at("/error/code").asText())
                    .isEqualTo("NOT_FOUND");
        }

        @Test
        void ragRetrieveAnswersPassagesWithIdsAndScoresReadyForAPrompt() throws Exception {
            json(post("memory", "/v1/remember", "{\"key\":\"parking\",\"value\":\"Sam parks on level 3, bay 42.\"}"),
                 200);
            final JsonNode data = json(post("memory", "/v1/rag/retrieve", "{\"query\":\"where does Sam park\",\"top_k\":3}"),
                                       200).path("data");
            final JsonNode first = data.path("passages").get(0);
            assertThat(first.path("text").asText()).isEqualTo("Sam parks on level 3, bay 42.");
            assertThat(first.path("id").asText()).startsWith("memories/");
            assertThat(first.path("score").asDouble()).isBetween(0.0, 1.0).isPositive();
            assertThat(data.path("context").asText()).startsWith("[1] (" + first.path("id").asText() + ", score ");
        }

        @Test
        void forecastBySeedRoutesHonoursTheWindowAndPricesInTheLedgersCurrency() throws Exception {
            // One chat, so that the ledger holds some history of Sam's.
            json(post("gateway", "/v1/chat", "{\"text\":\"What is the weather like?\"}"), 200);
            final JsonNode posted = json(post("router", "/v1/forecast",
                                              "{\"tenant\":\"seedco\",\"window_hours\":24,\"horizon_days\":7}"),
                                         200).path("data");
            assertThat(posted.path("method").asText()).isEqualTo("linear-hourly-mean");
            assertThat(posted.path("currency").asText()).isEqualTo("USD");
            assertThat(posted.path("horizon_hours").asInt()).isEqualTo(168);
            assertThat(posted.at("/basis/window_hours").asInt()).isEqualTo(24);
            assertThat(posted.at("/basis/tokens").asLong()).isPositive();
            // An hour or two of history: honestly little confidence, and the basis says why.
            assertThat(posted.path("confidence").asDouble()).isLessThanOrEqualTo(2.0 / 24);
            assertThat(posted.at("/basis/summary").asText()).contains("of a 24-hour window");
            assertThat(posted.path("projected_cost").asDouble())
                    .isEqualTo(posted.at("/projected/cost_micros").asLong() / 1e6);

            final JsonNode got = json(get("router", "/v1/forecast/seedco?window_hours=48"), 200).path("data");
            assertThat(got.at("/basis/window_hours").asInt()).isEqualTo(48);
            assertThat(got.at("/basis/tokens").asLong()).isEqualTo(posted.at("/basis/tokens").asLong());
            // A user forecasts their own tenant only.
            assertThat(json(get("router", "/v1/forecast/globex"), 403).at("/error/code").asText())
                    .isEqualTo("PERMISSION_DENIED");
        }

        @Test
        void conversationStreamIsTheChatStreamAsServerSentEvents() {
            final AggregatedHttpResponse response = post("gateway", "/v1/conversation/stream", "{\"text\":\"hello there\"}");
            assertThat(response.status().code()).isEqualTo(200);
            assertThat(response.contentType().toString()).startsWith("text/event-stream");
            assertThat(response.contentUtf8()).contains("data: {\"final\":");
            assertThat(response.contentUtf8().strip()).endsWith("data: {\"done\":true}");
        }

        @Test
        void healthIsServedByEveryServiceWithoutACredential() throws Exception {
            for (SoniaServer server : stack.servers()) {
                final AggregatedHttpResponse response =
                        WebClient.of("http://127.0.0.1:" + server.port()).get("/health").aggregate().join();
                final JsonNode health = json(response, 200);
                assertThat(health.path("ok").asBoolean()).isTrue();
                assertThat(health.path("service").asText()).isEqualTo(server.spec().name());
            }
        }

        private AggregatedHttpResponse get(String service, String path) {
            return client(service).get(path).aggregate().join();
        }

        private AggregatedHttpResponse post(String service, String path, String body) {
            return client(service).execute(HttpRequest.of(HttpMethod.POST, path, MediaType.JSON, body)).aggregate()
                                  .join();
        }

        private WebClient client(String service) {
            return TestCredentials.webClient("http://127.0.0.1:" + stack.port(service), sam);
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private static JsonNode json(AggregatedHttpResponse response, int status) throws Exception {
        assertThat(response.status().code()).as(response.contentUtf8()).isEqualTo(status);
        return JSON.readTree(response.contentUtf8());
    }

    /** The route with each path variable filled in, and "{}" as the body where it takes one. */
    private static AggregatedHttpResponse call(WebClient http, HttpRoutes.Route route) {
        String path = route.path();
        for (String field : route.pathFields()) {
            path = path.replace('{' + field + '}', PLACEHOLDERS.getOrDefault(field, "x"));
        }
        final HttpMethod method = HttpMethod.valueOf(route.verb().toUpperCase());
        final HttpRequest request = route.body().isEmpty() ? HttpRequest.of(method, path)
                                                           : HttpRequest.of(method, path, MediaType.JSON, "{}");
        return http.execute(request).aggregate().join();
    }

    /** Ids the services would accept as well-formed, so the answer is the method's own NOT_FOUND. */
    private static final Map<String, String> PLACEHOLDERS = Map.of("tenant", "default");

    /**
     * A 404 envelope that the method answered (NOT_FOUND of the thing), rather than the server's answer for a path
     * that no route matched.
     */
    private static boolean answeredByTheMethod(AggregatedHttpResponse response, HttpRoutes.Route route) {
        final String body = response.contentUtf8();
        return body.contains("\"operation\":\"" + route.method().getName() + '"')
               || body.contains("\"operation\":\"" + route.method().getFullName() + '"')
               || body.contains(route.method().getService().getFullName() + '/' + route.method().getName());
    }
}
