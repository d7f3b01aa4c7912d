package ai.sonia.router;

import static ai.sonia.router.Requests.user;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.MediaType;

import ai.sonia.router.v1.ChatRequest;
import ai.sonia.router.v1.ChatResponse;
import ai.sonia.router.v1.ContextPassage;
import ai.sonia.router.v1.FinishReason;
import ai.sonia.router.v1.ListModelsRequest;
import ai.sonia.router.v1.StreamChatRequest;
import ai.sonia.router.v1.StreamChatResponse;

/** A fresh stack with no config and no provider reachable answers extractively from its context. */
class ExtractiveTest {

    private static RouterFixture router;

    @BeforeAll
    static void start() {
        // No services.router section at all: the default chain, with Ollama where nothing listens.
        router = new RouterFixture("{}", Map.of("OLLAMA_BASE_URL", RouterFixture.closedUrl()));
    }

    @AfterAll
    static void stop() {
        router.close();
    }

    private static final List<ContextPassage> MEMORIES = List.of(
            passage("memories/1", "Alice moved to Lisbon in 2021. She works as a marine biologist at the aquarium."),
            passage("memories/2", "The team standup is every Tuesday at 9:30. Bob runs it when Alice is away."),
            passage("memories/3", "Alice's cat is called Miso. Miso is afraid of the vacuum cleaner."));

    private static ContextPassage passage(String source, String text) {
        return ContextPassage.newBuilder().setSource(source).setText(text).setScore(0.5).build();
    }

    private static ChatRequest ask(String question, List<ContextPassage> context) {
        return ChatRequest.newBuilder().addMessages(user(question)).addAllContext(context).build();
    }

    @Test
    void defaultChainFallsToExtractiveAndQuotesTheMostRelevantPassage() {
        final ChatResponse response = router.stub.chat(ask("What is the name of Alice's cat?", MEMORIES));
        assertThat(response.getProvider()).isEqualTo("extractive");
        assertThat(response.getAttemptsList()).first().satisfies(a -> assertThat(a.getErrorCode()).isEqualTo("UNAVAILABLE"));
        assertThat(response.getContent()).startsWith("No language model is reachable, so I am answering extractively");
        final String firstQuote = response.getContent().lines().filter(l -> l.startsWith("> ")).findFirst().orElseThrow();
        assertThat(firstQuote).isEqualTo("> Alice's cat is called Miso.");
        assertThat(response.getContent()).contains("(memories/3)").doesNotContain("standup");
        assertThat(response.getUsage().getCostMicros()).isZero();
        assertThat(response.getUsage().getCompletionTokens()).isPositive();
    }

    @Test
    void answersAreDeterministic() {
        final ChatRequest request = ask("Where does Alice work and live?", MEMORIES);
        final String first = router.stub.chat(request).getContent();
        assertThat(router.stub.chat(request).getContent()).isEqualTo(first);
        assertThat(first).contains("> Alice moved to Lisbon in 2021.").contains("marine biologist");
    }

    @Test
    void holdsItsAnswerToMaxTokensLikeAModel() {
        final ChatResponse response = router.stub.chat(ask("What is the name of Alice's cat?", MEMORIES).toBuilder()
                                                                                                       .setMaxTokens(4).build());
        assertThat(response.getContent()).isEqualTo("No language model is ");
        assertThat(response.getUsage().getCompletionTokens()).isEqualTo(4);
        assertThat(response.getFinishReason()).isEqualTo(FinishReason.FINISH_REASON_LENGTH);
    }

    @Test
    void saysSoWhenNothingMatchesOrNothingWasGiven() {
        assertThat(router.stub.chat(ask("quantum chromodynamics lecture", MEMORIES)).getContent())
                .contains("none of the 3 passages").contains("cannot answer it extractively");
        assertThat(router.stub.chat(ask("What is the name of Alice's cat?", List.of())).getContent())
                .contains("nothing to quote from");
    }

    @Test
    void streamsTheSameAnswerWordByWord() {
        final ChatRequest unary = ask("Who runs the standup?", MEMORIES);
        final List<String> deltas = new ArrayList<>();
        ChatResponse last = null;
        final var stream = router.stub.streamChat(StreamChatRequest.newBuilder().addAllMessages(unary.getMessagesList())
                                                                   .addAllContext(MEMORIES).build());
        while (stream.hasNext()) {
            final StreamChatResponse e = stream.next();
            if (e.hasFinal()) {
                last = e.getFinal();
            } else {
                deltas.add(e.getDelta());
            }
        }
        assertThat(deltas).hasSizeGreaterThan(10);
        assertThat(String.join("", deltas)).isEqualTo(last.getContent()).contains("> Bob runs it when Alice is away.");
    }

    @Test
    void restEdgeServesChatAsAnEnvelope() throws Exception {
        final AggregatedHttpResponse res = router.web().execute(
                HttpRequest.of(HttpMethod.POST, "/v1/chat:complete", MediaType.JSON, "{\"messages\":[{\"role\":\"ROLE_USER\",\"content\":"
                                                    + "\"Who runs the standup?\"}],\"context\":[{\"source\":"
                                                    + "\"memories/2\",\"text\":\"Bob runs the standup.\"}]}"))
                                                    .aggregate().join();
        assertThat(res.status().code()).isEqualTo(200);
        final JsonNode envelope = new ObjectMapper().readTree(res.contentUtf8());
        assertThat(envelope.path("ok").asBoolean()).isTrue();
        assertThat(envelope.path("data").path("provider").asText()).isEqualTo("extractive");
        assertThat(envelope.path("data").path("content").asText()).contains("> Bob runs the standup.");

        final AggregatedHttpResponse bad = router.web().execute(
                HttpRequest.of(HttpMethod.POST, "/v1/chat:complete", MediaType.JSON, "{\"messages\":[]}"))
                                                    .aggregate().join();
        assertThat(bad.status().code()).isEqualTo(400);
        assertThat(new ObjectMapper().readTree(bad.contentUtf8()).path("error").path("code").asText())
                .isEqualTo("INVALID_ARGUMENT");
    }

    @Test
    void listModelsShowsTheDefaultChainWithOllamaDown() {
        final var models = router.stub.listModels(ListModelsRequest.getDefaultInstance()).getModelsList();
        assertThat(models).extracting(m -> m.getName()).containsExactly("ollama/llama3.2", "extractive");
        assertThat(models.get(0).getLive()).isFalse();
        assertThat(models.get(1).getLive()).isTrue();
        assertThat(models.get(1).getAliasesList()).containsExactly("default");
    }
}
