package ai.sonia.memory;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.MediaType;

import ai.sonia.common.v1.Role;

/**
 * The seed's memory routes over REST: {@code POST /v1/remember} with {@code {"key","value"}},
 * {@code GET /v1/recall/{key}} (the key in the metadata, or a memory id), and {@code POST /v1/rag/retrieve}
 * answering passages with ids, scores and the prompt block.
 */
class SeedRoutesTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static MemoryTestServer server;
    private static WebClient ann;
    private static WebClient bob;

    @BeforeAll
    static void start() {
        server = MemoryTestServer.fresh("seed");
        ann = server.web("seed", "ann", Role.ROLE_USER);
        bob = server.web("seed", "bob", Role.ROLE_USER);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void rememberThenRecallByKeyAndANewValueSupersedesTheOld() throws Exception {
        final JsonNode first = call(ann, HttpMethod.POST, "/v1/remember",
                                    "{\"key\":\"favorite_color\",\"value\":\"Ann's favorite color is blue.\"}", 200);
        assertThat(first.at("/data/created").asBoolean()).isTrue();
        assertThat(first.at("/data/memory/metadata/key").asText()).isEqualTo("favorite_color");
        assertThat(call(ann, HttpMethod.GET, "/v1/recall/favorite_color", null, 200).at("/data/text").asText())
                .isEqualTo("Ann's favorite color is blue.");

        final JsonNode second = call(ann, HttpMethod.POST, "/v1/remember",
                                     "{\"key\":\"favorite_color\",\"value\":\"Ann's favorite color is green.\"}", 200);
        assertThat(second.at("/data/memory/supersedes").asText()).isEqualTo(first.at("/data/memory/name").asText());
        assertThat(call(ann, HttpMethod.GET, "/v1/recall/favorite_color", null, 200).at("/data/text").asText())
                .isEqualTo("Ann's favorite color is green.");
        // Remembering the same again changes nothing.
        assertThat(call(ann, HttpMethod.POST, "/v1/remember",
                        "{\"key\":\"favorite_color\",\"value\":\"Ann's favorite color is green.\"}", 200)
                           .at("/data/created").asBoolean()).isFalse();

        // A memory id recalls too; another user's key is not found, as their memory is not visible.
        final String id = second.at("/data/memory/name").asText().substring("memories/".length());
        assertThat(call(ann, HttpMethod.GET, "/v1/recall/" + id, null, 200).at("/data/name").asText()).endsWith(id);
        assertThat(call(bob, HttpMethod.GET, "/v1/recall/favorite_color", null, 404).at("/error/code").asText())
                .isEqualTo("NOT_FOUND");
        assertThat(call(bob, HttpMethod.GET, "/v1/recall/" + id, null, 404).at("/error/code").asText())
                .isEqualTo("NOT_FOUND");
    }

    @Test
    void conflictingValueAndTextAreRefusedByName() throws Exception {
        assertThat(call(ann, HttpMethod.POST, "/v1/remember",
                        "{\"key\":\"k\",\"value\":\"one\",\"memory\":{\"text\":\"two\"}}", 400)
                           .at("/error/details").toString()).contains("value");
        assertThat(call(ann, HttpMethod.POST, "/v1/remember", "{\"key\":\"k\"}", 400).at("/error/code").asText())
                .isEqualTo("INVALID_ARGUMENT");
    }

    @Test
    void retrieveAnswersPassagesWithIdsScoresAndThePromptBlock() throws Exception {
        call(ann, HttpMethod.POST, "/v1/remember",
             "{\"key\":\"locker\",\"value\":\"Ann's gym locker is number 17.\"}", 200);
        call(ann, HttpMethod.POST, "/v1/remember", "{\"value\":\"Ann takes the train to work.\"}", 200);
        final JsonNode data = call(ann, HttpMethod.POST, "/v1/rag/retrieve",
                                   "{\"query\":\"which gym locker\",\"top_k\":2}", 200).path("data");
        final JsonNode best = data.path("passages").get(0);
        assertThat(best.path("text").asText()).isEqualTo("Ann's gym locker is number 17.");
        assertThat(best.path("id").asText()).startsWith("memories/");
        assertThat(best.path("score").asDouble()).isPositive();
        assertThat(best.path("rank").asInt()).isEqualTo(1);
        assertThat(best.path("key").asText()).isEqualTo("locker");
        assertThat(data.path("passages").size()).isLessThanOrEqualTo(2);
        assertThat(data.path("context").asText())
                .startsWith("[1] (" + best.path("id").asText() + ", score ")
                .contains("Ann's gym locker is number 17.\n");
        assertThat(call(ann, HttpMethod.POST, "/v1/rag/retrieve", "{\"query\":\" \"}", 400).at("/error/code").asText())
                .isEqualTo("INVALID_ARGUMENT");
    }

    private static JsonNode call(WebClient client, HttpMethod method, String path, String body, int status)
            throws Exception {
        final AggregatedHttpResponse response =
                (body == null ? client.execute(HttpRequest.of(method, path))
                              : client.execute(HttpRequest.of(method, path, MediaType.JSON, body))).aggregate().join();
        assertThat(response.status().code()).as(path + ": " + response.contentUtf8()).isEqualTo(status);
        return JSON.readTree(response.contentUtf8());
    }
}
