package ai.sonia.router;

import static ai.sonia.router.Requests.ask;
import static ai.sonia.runtime.testing.StatusDetails.badRequest;
import static ai.sonia.runtime.testing.StatusDetails.errorInfo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import com.fasterxml.jackson.databind.JsonNode;

import ai.sonia.common.v1.ToolDefinition;
import ai.sonia.router.FakeProvider.CallTool;
import ai.sonia.router.FakeProvider.Dialect;
import ai.sonia.router.FakeProvider.Fail;
import ai.sonia.router.FakeProvider.Slow;
import ai.sonia.router.v1.ChatRequest;
import ai.sonia.router.v1.ChatResponse;
import ai.sonia.router.v1.FinishReason;
import ai.sonia.router.v1.ListModelsRequest;
import ai.sonia.router.v1.Model;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

class RoutingTest {

    private final FakeProvider ollama = new FakeProvider(Dialect.OLLAMA, "hello from ollama");
    private final FakeProvider anthropic = new FakeProvider(Dialect.ANTHROPIC, "hello from claude");
    private final FakeProvider openai = new FakeProvider(Dialect.OPENAI, "hello from openai");
    private RouterFixture router;

    @AfterEach
    void tearDown() {
        if (router != null) {
            router.close();
        }
        ollama.close();
        anthropic.close();
        openai.close();
    }

    private String config(String ollamaUrl, String extra) {
        return "{\"deployments\":["
               + "{\"name\":\"local\",\"provider\":\"ollama\",\"model\":\"llama3.2\",\"baseUrl\":\"" + ollamaUrl
               + "\",\"timeoutMs\":500},"
               + "{\"name\":\"claude\",\"provider\":\"anthropic\",\"model\":\"claude-test\",\"baseUrl\":\""
               + anthropic.baseUrl() + "\",\"apiKeyEnv\":\"ANTHROPIC_API_KEY\",\"inputPriceMicrosPerMtok\":800000,"
               + "\"outputPriceMicrosPerMtok\":4000000},"
               + "{\"name\":\"gpt\",\"provider\":\"openai\",\"model\":\"gpt-test\",\"baseUrl\":\"" + openai.baseUrl()
               + "\",\"apiKeyEnv\":\"OPENROUTER_API_KEY\"},"
               + "{\"name\":\"extractive\",\"provider\":\"extractive\"}],"
               + "\"aliases\":{\"default\":[\"local\",\"claude\",\"gpt\",\"extractive\"],\"cloud\":[\"claude\",\"gpt\"]}"
               + extra + '}';
    }

    private RouterFixture start(String ollamaUrl, String extra) {
        router = new RouterFixture(config(ollamaUrl, extra),
                                   Map.of("ANTHROPIC_API_KEY", "test-key", "OPENROUTER_API_KEY", "test-key"));
        return router;
    }

    @Test
    void firstHealthyDeploymentAnswersWithUsageAndCost() {
        start(ollama.baseUrl(), "");
        final ChatResponse response = router.stub.chat(ask("claude", "hi there"));
        assertThat(response.getContent()).isEqualTo("hello from claude");
        assertThat(response.getDeployment()).isEqualTo("claude");
        assertThat(response.getProvider()).isEqualTo("anthropic");
        assertThat(response.getUsage().getPromptTokens()).isEqualTo(FakeProvider.PROMPT_TOKENS);
        assertThat(response.getUsage().getCompletionTokens()).isEqualTo(3);
        // 11 * 0.8 + 3 * 4 = 20.8 micro-USD, rounded half up
        assertThat(response.getUsage().getCostMicros()).isEqualTo(21);
        assertThat(anthropic.requests().get(0).path("model").asText()).isEqualTo("claude-test");
    }

    @Test
    void refusedConnectionFallsOverToTheNextDeployment() {
        start(RouterFixture.closedUrl(), "");
        final ChatResponse response = router.stub.chat(ask("", "hi"));
        assertThat(response.getDeployment()).isEqualTo("claude");
        assertThat(response.getAttemptsList()).hasSize(2);
        assertThat(response.getAttempts(0).getDeployment()).isEqualTo("local");
        assertThat(response.getAttempts(0).getErrorCode()).isEqualTo("UNAVAILABLE");
        assertThat(response.getAttempts(0).getErrorMessage()).contains("unreachable");
    }

    @Test
    void serverErrorIsRetriedOnceByTheRouterThenFallsOver() {
        start(ollama.baseUrl(), "");
        ollama.then(new Fail(500, "{\"error\":\"model crashed\"}", Map.of()))
              .then(new Fail(503, "{\"error\":\"overloaded\"}", Map.of()));
        final ChatResponse response = router.stub.chat(ask("", "hi"));
        assertThat(response.getDeployment()).isEqualTo("claude");
        // one call plus one router retry: the LangChain4j client itself never retries
        assertThat(ollama.requestCount()).isEqualTo(2);
        assertThat(response.getAttempts(0).getErrorMessage()).contains("HTTP 503").contains("overloaded");
    }

    @Test
    void retriesStopWhenTheRetryBudgetIsSpent() {
        start(ollama.baseUrl(), ",\"retry\":{\"maxAttempts\":3,\"budgetRatio\":0,\"budgetCap\":1}");
        for (int i = 0; i < 6; i++) {
            ollama.then(new Fail(500, "{\"error\":\"down\"}", Map.of()));
        }
        assertThat(router.stub.chat(ask("", "one")).getDeployment()).isEqualTo("claude");
        assertThat(ollama.requestCount()).as("one call and the budget's only retry").isEqualTo(2);
        assertThat(router.stub.chat(ask("", "two")).getDeployment()).isEqualTo("claude");
        assertThat(ollama.requestCount()).as("budget spent: no retry").isEqualTo(3);
    }

    @Test
    void rateLimitCoolsTheDeploymentDownUntilRetryAfter() {
        start(ollama.baseUrl(), "");
        anthropic.then(new Fail(429, "{\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\","
                                     + "\"message\":\"slow down\"}}", Map.of("retry-after", "120")));
        final Instant before = Instant.now();
        final ChatResponse first = router.stub.chat(ask("cloud", "hi"));
        assertThat(first.getDeployment()).isEqualTo("gpt");
        assertThat(first.getAttempts(0).getErrorCode()).isEqualTo("RATE_LIMITED");
        assertThat(anthropic.requestCount()).isEqualTo(1);

        final ChatResponse second = router.stub.chat(ask("cloud", "again"));
        assertThat(second.getDeployment()).isEqualTo("gpt");
        assertThat(second.getAttempts(0).getErrorMessage()).startsWith("cooled down until");
        assertThat(anthropic.requestCount()).as("not called while cooled down").isEqualTo(1);

        final Model claude = router.stub.listModels(ListModelsRequest.getDefaultInstance()).getModelsList().stream()
                                        .filter(m -> m.getName().equals("claude")).findFirst().orElseThrow();
        assertThat(claude.getHealthy()).isFalse();
        assertThat(claude.getCooldownUntil().getSeconds()).isBetween(before.getEpochSecond() + 119,
                                                                     Instant.now().getEpochSecond() + 121);
    }

    @Test
    void badRequestIsNeverRetriedAndNamesTheProviderReason() {
        start(ollama.baseUrl(), "");
        anthropic.then(new Fail(400, "{\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\","
                                     + "\"message\":\"max_tokens: must be <= 8192\"}}", Map.of()));
        assertThatThrownBy(() -> router.stub.chat(ask("cloud", "hi")))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                    assertThat(e.getStatus().getDescription()).contains("max_tokens: must be <= 8192");
                    assertThat(errorInfo(e).getReason()).isEqualTo("INVALID_ARGUMENT");
                    assertThat(errorInfo(e).getMetadataMap()).containsEntry("deployment", "claude");
                });
        assertThat(anthropic.requestCount()).isEqualTo(1);
        assertThat(openai.requestCount()).as("a bad request is not sent elsewhere").isZero();
    }

    @Test
    void refusedContentIsFailedPrecondition() {
        start(ollama.baseUrl(), "");
        openai.then(new Fail(400, "{\"error\":{\"message\":\"flagged by our content_policy\",\"code\":"
                                  + "\"content_filter\"}}", Map.of()));
        assertThatThrownBy(() -> router.stub.chat(ask("gpt", "something bad")))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
                    assertThat(e.getStatus().getDescription()).contains("content_policy");
                });
        assertThat(openai.requestCount()).isEqualTo(1);
    }

    @Test
    void answerLaterThanTheDeploymentTimeoutFallsOver() {
        start(ollama.baseUrl(), "");
        ollama.then(new Slow(Duration.ofSeconds(3), "too late"));
        final ChatResponse response = router.stub.chat(ask("", "hi"));
        assertThat(response.getDeployment()).isEqualTo("claude");
        assertThat(response.getAttempts(0).getErrorCode()).isEqualTo("TIMEOUT");
    }

    @Test
    void cooledDownDeploymentComesBackAfterItsCooldown() {
        start(ollama.baseUrl(), ",\"cooldown\":{\"failureThreshold\":1,\"durationMs\":400},\"retry\":{\"maxAttempts\":1}");
        ollama.then(new Fail(500, "{\"error\":\"boom\"}", Map.of()));
        assertThat(router.stub.chat(ask("", "one")).getDeployment()).isEqualTo("claude");
        final ChatResponse skipped = router.stub.chat(ask("", "two"));
        assertThat(skipped.getDeployment()).isEqualTo("claude");
        assertThat(skipped.getAttempts(0).getErrorMessage()).startsWith("cooled down until");
        assertThat(ollama.requestCount()).isEqualTo(1);
        await().atMost(Duration.ofSeconds(5)).untilAsserted(
                () -> assertThat(router.stub.chat(ask("", "three")).getDeployment()).isEqualTo("local"));
        assertThat(router.stub.listModels(ListModelsRequest.getDefaultInstance()).getModels(0).getHealthy()).isTrue();
    }

    @Test
    void everyDeploymentDownIsUnavailableWithEachAttempt() {
        start(RouterFixture.closedUrl(), "");
        anthropic.then(new Fail(502, "bad gateway", Map.of())).then(new Fail(502, "bad gateway", Map.of()));
        openai.then(new Fail(401, "{\"error\":{\"message\":\"bad key\"}}", Map.of()));
        assertThatThrownBy(() -> router.stub.chat(ask("cloud", "hi")))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
                    assertThat(e.getStatus().getDescription()).contains("claude: HTTP 502").contains("gpt: HTTP 401");
                });
    }

    @ParameterizedTest
    @ValueSource(strings = { "local", "claude", "gpt" })
    void toolsArePassedAndToolCallsComeBackAsData(String deployment) {
        start(ollama.baseUrl(), "");
        final FakeProvider provider = deployment.equals("local") ? ollama : deployment.equals("claude") ? anthropic : openai;
        provider.then(new CallTool("call_1", "file_read", "{\"path\":\"notes.txt\"}"));
        final ChatRequest request = ask(deployment, "read my notes").toBuilder().addTools(
                ToolDefinition.newBuilder().setName("file_read").setDescription("Reads a file")
                              .setParametersJsonSchema("{\"type\":\"object\",\"properties\":{\"path\":{\"type\":"
                                                       + "\"string\"}},\"required\":[\"path\"]}")).build();
        final ChatResponse response = router.stub.chat(request);
        assertThat(response.getFinishReason()).isEqualTo(FinishReason.FINISH_REASON_TOOL_CALLS);
        assertThat(response.getToolCallsList()).singleElement().satisfies(call -> {
            if (!deployment.equals("local")) {
                assertThat(call.getId()).isEqualTo("call_1"); // Ollama's API has no call ids
            }
            assertThat(call.getToolName()).isEqualTo("file_read");
            assertThat(call.getArgumentsJson()).contains("notes.txt");
        });
        final JsonNode sent = provider.requests().get(0).path("tools").get(0);
        final JsonNode function = sent.has("function") ? sent.path("function") : sent;
        final JsonNode schema = function.has("parameters") ? function.path("parameters") : function.path("input_schema");
        assertThat(function.path("name").asText()).isEqualTo("file_read");
        assertThat(schema.path("properties").path("path").path("type").asText()).isEqualTo("string");
        assertThat(schema.path("required").get(0).asText()).isEqualTo("path");
    }

    @Test
    void badRequestsNameTheField() {
        start(ollama.baseUrl(), "");
        assertInvalid(ChatRequest.newBuilder().setModel("gpt").build(), "messages");
        assertInvalid(ask("no-such-model", "hi"), "model");
        assertInvalid(ask("gpt", "hi").toBuilder().setMaxTokens(-1).build(), "max_tokens");
        assertInvalid(ask("gpt", "hi").toBuilder().setTemperature(7).build(), "temperature");
        assertInvalid(ask("gpt", "hi").toBuilder().addTools(ToolDefinition.newBuilder().setName("x")
                                                                          .setParametersJsonSchema("[1")).build(),
                      "tools[0].parameters_json_schema");
        assertThat(openai.requestCount()).isZero();
    }

    private void assertInvalid(ChatRequest request, String field) {
        assertThatThrownBy(() -> router.stub.chat(request))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                    assertThat(badRequest(e).getFieldViolations(0).getField()).isEqualTo(field);
                });
    }
}
