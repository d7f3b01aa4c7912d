package ai.sonia.router;

import static ai.sonia.router.Requests.user;
import static ai.sonia.runtime.testing.StatusDetails.errorInfo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import ai.sonia.router.FakeProvider.BreakAfter;
import ai.sonia.router.FakeProvider.Dialect;
import ai.sonia.router.v1.ChatResponse;
import ai.sonia.router.v1.StreamChatRequest;
import ai.sonia.router.v1.StreamChatResponse;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

class StreamingTest {

    private static final String ANSWER = "The quick brown fox jumps over the lazy dog";

    private final FakeProvider ollama = new FakeProvider(Dialect.OLLAMA, ANSWER);
    private final FakeProvider anthropic = new FakeProvider(Dialect.ANTHROPIC, ANSWER);
    private final FakeProvider openai = new FakeProvider(Dialect.OPENAI, "a whole other answer");
    private final RouterFixture router = new RouterFixture(
            "{\"deployments\":["
            + "{\"name\":\"local\",\"provider\":\"ollama\",\"model\":\"llama3.2\",\"baseUrl\":\"" + ollama.baseUrl()
            + "\",\"timeoutMs\":1000},"
            + "{\"name\":\"claude\",\"provider\":\"anthropic\",\"model\":\"claude-test\",\"baseUrl\":\""
            + anthropic.baseUrl() + "\",\"apiKeyEnv\":\"ANTHROPIC_API_KEY\"},"
            + "{\"name\":\"gpt\",\"provider\":\"openai\",\"model\":\"gpt-test\",\"baseUrl\":\"" + openai.baseUrl()
            + "\",\"apiKeyEnv\":\"OPENROUTER_API_KEY\",\"inputPriceMicrosPerMtok\":1000000,"
            + "\"outputPriceMicrosPerMtok\":2000000}],"
            + "\"aliases\":{\"default\":[\"local\",\"gpt\"],\"claude-first\":[\"claude\",\"gpt\"]}}",
            Map.of("ANTHROPIC_API_KEY", "k", "OPENROUTER_API_KEY", "k"));

    @AfterEach
    void tearDown() {
        router.close();
        ollama.close();
        anthropic.close();
        openai.close();
    }

    private static StreamChatRequest ask(String model) {
        return StreamChatRequest.newBuilder().setModel(model).addMessages(user("tell me")).build();
    }

    @ParameterizedTest
    @ValueSource(strings = { "local", "claude", "gpt" })
    void tokensComeAsDeltasThenAFinalMessageWithUsage(String deployment) {
        final List<String> deltas = new ArrayList<>();
        ChatResponse last = null;
        final Iterator<StreamChatResponse> stream = router.stub.streamChat(ask(deployment));
        while (stream.hasNext()) {
            final StreamChatResponse event = stream.next();
            assertThat(last).as("the final message is the last one").isNull();
            if (event.hasFinal()) {
                last = event.getFinal();
            } else {
                deltas.add(event.getDelta());
            }
        }
        final String expected = deployment.equals("gpt") ? "a whole other answer" : ANSWER;
        assertThat(deltas).hasSizeGreaterThan(1);
        assertThat(String.join("", deltas)).isEqualTo(expected);
        assertThat(last).isNotNull();
        assertThat(last.getContent()).isEqualTo(expected);
        assertThat(last.getDeployment()).isEqualTo(deployment);
        assertThat(last.getUsage().getPromptTokens()).isEqualTo(FakeProvider.PROMPT_TOKENS);
        assertThat(last.getUsage().getCompletionTokens()).isEqualTo(FakeProvider.tokens(expected).size());
        assertThat(last.getMidstreamFallover()).isFalse();
    }

    @Test
    void streamBrokenAfterTheFirstTokenEndsWithAClearError() {
        ollama.then(new BreakAfter(3, ANSWER));
        final List<String> deltas = new ArrayList<>();
        final Iterator<StreamChatResponse> stream = router.stub.streamChat(ask(""));
        assertThatThrownBy(() -> stream.forEachRemaining(e -> {
            assertThat(e.hasFinal()).as("no final message after a break").isFalse();
            deltas.add(e.getDelta());
        })).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
            assertThat(e.getStatus().getDescription()).contains("broke after its first token")
                                                      .contains("incomplete");
            assertThat(errorInfo(e).getMetadataMap()).containsEntry("stream_broken", "true")
                                                     .containsEntry("deployment", "local");
        });
        assertThat(String.join("", deltas)).isEqualTo("The quick brown ");
        assertThat(openai.requestCount()).as("no silent fallover").isZero();
    }

    @Test
    void midstreamFalloverWhenAllowedIsMarkedInTheFinalMessage() {
        anthropic.then(new BreakAfter(2, ANSWER));
        final List<String> deltas = new ArrayList<>();
        ChatResponse last = null;
        final Iterator<StreamChatResponse> stream =
                router.stub.streamChat(ask("claude-first").toBuilder().setAllowMidstreamFallback(true).build());
        while (stream.hasNext()) {
            final StreamChatResponse event = stream.next();
            if (event.hasFinal()) {
                last = event.getFinal();
            } else {
                deltas.add(event.getDelta());
            }
        }
        assertThat(last).isNotNull();
        assertThat(last.getMidstreamFallover()).isTrue();
        assertThat(last.getDeployment()).isEqualTo("gpt");
        assertThat(last.getContent()).isEqualTo("a whole other answer");
        assertThat(String.join("", deltas)).isEqualTo("The quick a whole other answer");
        assertThat(last.getAttemptsList()).extracting(a -> a.getDeployment()).containsExactly("claude", "gpt");
        // 11 prompt tokens at 1 USD/Mtok + 4 completion tokens at 2 USD/Mtok = 19 micro-USD
        assertThat(last.getUsage().getCostMicros()).isEqualTo(19);
    }

    @Test
    void firstTokenLaterThanTheDeploymentTimeoutFallsOver() {
        ollama.then(new FakeProvider.Slow(java.time.Duration.ofSeconds(4), "too late"));
        final List<StreamChatResponse> events = new ArrayList<>();
        router.stub.streamChat(ask("")).forEachRemaining(events::add);
        final ChatResponse last = events.get(events.size() - 1).getFinal();
        assertThat(last.getDeployment()).isEqualTo("gpt");
        assertThat(last.getAttempts(0).getErrorCode()).isEqualTo("TIMEOUT");
        assertThat(events).noneSatisfy(e -> assertThat(e.getDelta()).contains("too"));
    }

    @Test
    void failureBeforeTheFirstTokenFallsOverSilently() {
        ollama.then(new FakeProvider.Fail(500, "{\"error\":\"x\"}", Map.of()))
              .then(new FakeProvider.Fail(500, "{\"error\":\"x\"}", Map.of()));
        final List<StreamChatResponse> events = new ArrayList<>();
        router.stub.streamChat(ask("")).forEachRemaining(events::add);
        final ChatResponse last = events.get(events.size() - 1).getFinal();
        assertThat(last.getDeployment()).isEqualTo("gpt");
        assertThat(last.getMidstreamFallover()).isFalse();
    }
}
