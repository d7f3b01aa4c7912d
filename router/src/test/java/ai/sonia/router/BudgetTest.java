package ai.sonia.router;

import static ai.sonia.router.Requests.ask;
import static ai.sonia.runtime.testing.StatusDetails.errorInfo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.MediaType;

import ai.sonia.common.v1.Role;
import ai.sonia.router.FakeProvider.Dialect;
import ai.sonia.router.domain.ChatCall;
import ai.sonia.router.domain.PromptEstimate;
import ai.sonia.router.v1.ChatRequest;
import ai.sonia.router.v1.ChatResponse;
import ai.sonia.router.v1.GetBudgetRequest;
import ai.sonia.router.v1.GetBudgetResponse;
import ai.sonia.router.v1.GetUsageRequest;
import ai.sonia.router.v1.GetUsageResponse;
import ai.sonia.router.v1.RouterServiceGrpc.RouterServiceBlockingStub;
import ai.sonia.router.v1.StreamChatRequest;
import ai.sonia.router.v1.StreamChatResponse;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * Token and cost budgets per tenant, on a real router whose provider (a loopback OpenAI-compatible server)
 * reports deterministic usage. The fake reports exactly the router's prompt estimate, so a call asking
 * {@code max_tokens: 5} and getting a five-word answer uses exactly what it reserved: under any interleaving
 * of concurrent calls, spent + reserved is then (calls admitted) x usage, and the number admitted is provable.
 */
class BudgetTest {

    private static final String QUESTION = "how much is left?";
    private static final String FIVE_WORDS = "one two three four five";
    /** The router's prompt estimate for the question, which the fake provider reports back as its usage. */
    private static final long PROMPT = promptEstimate();
    private static final int CONCURRENT = 64;
    private static final int FITTING = 10;
    /** Reserved and used by a call with max_tokens 5 and a five-word answer. */
    private static final long USAGE = PROMPT + 5;
    /** Room for exactly {@link #FITTING} such calls, plus a remainder too small for another. */
    private static final long ACME_TOKENS = FITTING * USAGE + USAGE - 1;
    private static final int DEFAULT_OUTPUT = 50;

    private final FakeProvider openai = new FakeProvider(Dialect.OPENAI, FIVE_WORDS);
    private RouterFixture router = new RouterFixture(
            "{\"deployments\":[{\"name\":\"gpt\",\"provider\":\"openai\",\"model\":\"gpt-test\",\"baseUrl\":\""
            + openai.baseUrl() + "\",\"inputPriceMicrosPerMtok\":1000000,\"outputPriceMicrosPerMtok\":2000000}],"
            + "\"retry\":{\"maxAttempts\":1},\"cooldown\":{\"failureThreshold\":100},"
            + "\"budgets\":{\"defaultOutputTokens\":" + DEFAULT_OUTPUT + ",\"tenants\":{"
            + "\"acme\":{\"tokens\":" + ACME_TOKENS + "},"
            // Three calls reserving the default output and using 5 of it: 2 x actual + 1 x reservation.
            + "\"thrift\":{\"costMicros\":" + (2 * cost(PROMPT, 5) + cost(PROMPT, DEFAULT_OUTPUT)) + "},"
            + "\"tight\":{\"tokens\":" + USAGE + "}}}}");

    @AfterEach
    void tearDown() {
        router.close();
        openai.close();
    }

    @Test
    void budgetsStopATenantExactlyAtItsLimitUnderConcurrentCalls() throws Exception {
        openai.promptTokens(PROMPT);
        final RouterServiceBlockingStub acme = router.as(router.token("acme", "alice", Role.ROLE_USER));
        final RouterServiceBlockingStub globex = router.as(router.token("globex", "gina", Role.ROLE_USER));
        final ExecutorService pool = Executors.newFixedThreadPool(CONCURRENT + 8);
        final CountDownLatch go = new CountDownLatch(1);
        final List<Future<Object>> acmeCalls = new ArrayList<>();
        final List<Future<Object>> globexCalls = new ArrayList<>();
        for (int i = 0; i < CONCURRENT; i++) {
            acmeCalls.add(pool.submit(() -> callOrError(go, acme)));
        }
        for (int i = 0; i < 8; i++) {
            globexCalls.add(pool.submit(() -> callOrError(go, globex)));
        }
        go.countDown();
        final List<ChatResponse> served = new ArrayList<>();
        for (Future<Object> f : acmeCalls) {
            final Object outcome = f.get();
            if (outcome instanceof ChatResponse response) {
                served.add(response);
            } else {
                assertRateLimited((StatusRuntimeException) outcome, "token");
            }
        }
        pool.shutdown();

        assertThat(served).hasSize(FITTING);
        final long servedTokens = served.stream().mapToLong(r -> r.getUsage().getTotalTokens()).sum();
        final GetUsageResponse ledger = router.as(router.token("acme", "boss", Role.ROLE_ADMIN))
                                              .getUsage(GetUsageRequest.getDefaultInstance());
        assertThat(ledger.getTotal().getRequests()).isEqualTo(FITTING);
        assertThat(ledger.getTotal().getUsage().getTotalTokens()).isEqualTo(servedTokens)
                                                                 .isEqualTo(FITTING * USAGE)
                                                                 .isLessThanOrEqualTo(ACME_TOKENS);
        final GetBudgetResponse budget = acme.getBudget(GetBudgetRequest.getDefaultInstance());
        assertThat(budget.getSpentTokens()).isEqualTo(FITTING * USAGE);
        assertThat(budget.getReservedTokens()).isZero();
        assertThat(budget.getRemainingTokens()).isEqualTo(USAGE - 1);

        // Another tenant was not touched by acme's budget.
        for (Future<Object> f : globexCalls) {
            assertThat(f.get()).isInstanceOf(ChatResponse.class);
        }
        assertThat(globex.getBudget(GetBudgetRequest.getDefaultInstance()).getLimitTokens()).isZero();

        // What fits still goes through (a one-word answer), then nothing that does not.
        openai.defaultText("one");
        final ChatResponse small = acme.chat(ask("gpt", QUESTION).toBuilder().setMaxTokens(1).build());
        assertThat(small.getUsage().getTotalTokens()).isEqualTo(PROMPT + 1);
        assertThatThrownBy(() -> acme.chat(ask("gpt", QUESTION).toBuilder().setMaxTokens(1).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertRateLimited(e, "token"));
        assertThat(acme.getBudget(GetBudgetRequest.getDefaultInstance()).getSpentTokens())
                .isEqualTo(FITTING * USAGE + PROMPT + 1)
                .isLessThanOrEqualTo(ACME_TOKENS);
    }

    @Test
    void callsSucceedUntilTheNextWouldPassTheLimitAndARestartKeepsWhatWasSpent() throws Exception {
        // Calls without max_tokens reserve the default output, are capped at it, and are charged what they used.
        openai.promptTokens(PROMPT);
        final String token = router.token("thrift", "tom", Role.ROLE_USER);
        final RouterServiceBlockingStub thrift = router.as(token);
        final long used = cost(PROMPT, 5);
        assertThat(thrift.chat(ask("gpt", QUESTION)).getUsage().getCostMicros()).isEqualTo(used);
        assertThat(openai.requests().get(0).path("max_tokens").asInt(
                openai.requests().get(0).path("max_completion_tokens").asInt())).isEqualTo(DEFAULT_OUTPUT);
        final List<StreamChatResponse> events = new ArrayList<>();
        thrift.streamChat(StreamChatRequest.newBuilder().setModel("gpt").addMessages(Requests.user(QUESTION)).build())
              .forEachRemaining(events::add);
        assertThat(events.get(events.size() - 1).getFinal().getUsage().getCostMicros()).isEqualTo(used);
        // A call the provider refuses, and a stream that breaks, are released, not charged.
        openai.then(new FakeProvider.Fail(400, "{\"error\":{\"message\":\"bad\"}}", Map.of()));
        assertThatThrownBy(() -> thrift.chat(ask("gpt", QUESTION)))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
        openai.then(new FakeProvider.BreakAfter(2, FIVE_WORDS));
        assertThatThrownBy(() -> thrift.streamChat(StreamChatRequest.newBuilder().setModel("gpt")
                                                                    .addMessages(Requests.user(QUESTION)).build())
                                       .forEachRemaining(events::add))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
        final GetBudgetResponse afterFailures = thrift.getBudget(GetBudgetRequest.getDefaultInstance());
        assertThat(afterFailures.getReservedCostMicros()).isZero();
        assertThat(afterFailures.getSpentCostMicros()).isEqualTo(2 * used);
        thrift.chat(ask("gpt", QUESTION));
        assertThatThrownBy(() -> thrift.chat(ask("gpt", QUESTION)))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertRateLimited(e, "cost");
                    assertThat(errorInfo(e).getMetadataMap()).containsEntry("spent", String.valueOf(3 * used));
                });
        assertThatThrownBy(() -> thrift.streamChat(StreamChatRequest.newBuilder().setModel("gpt")
                                                                    .addMessages(Requests.user(QUESTION)).build())
                                       .forEachRemaining(events::add))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertRateLimited(e, "cost"));
        final int providerCalls = openai.requestCount();

        router.restart();
        final RouterServiceBlockingStub again = router.as(token);
        final GetBudgetResponse budget = again.getBudget(GetBudgetRequest.getDefaultInstance());
        assertThat(budget.getSpentCostMicros()).isEqualTo(3 * used);
        assertThat(budget.getSpentTokens()).isEqualTo(3 * (PROMPT + 5));
        assertThatThrownBy(() -> again.chat(ask("gpt", QUESTION)))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertRateLimited(e, "cost"));
        assertThat(openai.requestCount()).isEqualTo(providerCalls);

        // The REST edge answers 429 with RATE_LIMITED, and shows the budget.
        final AggregatedHttpResponse refused = router.web(token).execute(HttpRequest.of(
                HttpMethod.POST, "/v1/chat:complete", MediaType.JSON,
                "{\"model\":\"gpt\",\"messages\":[{\"role\":\"ROLE_USER\",\"content\":\"" + QUESTION + "\"}]}"))
                                                    .aggregate().join();
        assertThat(refused.status().code()).isEqualTo(429);
        assertThat(json(refused).path("error").path("code").asText()).isEqualTo("RATE_LIMITED");
        final JsonNode shown = json(router.web(token).get("/v1/budget").aggregate().join()).path("data");
        assertThat(shown.path("tenant").asText()).isEqualTo("thrift");
        assertThat(shown.path("spent_cost_micros").asLong()).isEqualTo(3 * used);
        assertThat(shown.path("remaining_cost_micros").asLong()).isEqualTo(cost(PROMPT, DEFAULT_OUTPUT) - used);
    }

    @Test
    void aProviderReportingMoreThanReservedIsChargedWhatItReported() {
        openai.promptTokens(PROMPT + 1000);
        final RouterServiceBlockingStub tight = router.as(router.token("tight", "tia", Role.ROLE_USER));
        final ChatResponse over = tight.chat(ask("gpt", QUESTION).toBuilder().setMaxTokens(5).build());
        assertThat(over.getUsage().getTotalTokens()).isEqualTo(USAGE + 1000);
        final GetBudgetResponse budget = tight.getBudget(GetBudgetRequest.getDefaultInstance());
        assertThat(budget.getSpentTokens()).isEqualTo(USAGE + 1000);
        assertThat(budget.getRemainingTokens()).isZero();
        assertThatThrownBy(() -> tight.chat(ask("gpt", QUESTION).toBuilder().setMaxTokens(1).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertRateLimited(e, "token"));
    }

    private static Object callOrError(CountDownLatch go, RouterServiceBlockingStub stub) throws InterruptedException {
        go.await();
        try {
            return stub.chat(ask("gpt", QUESTION).toBuilder().setMaxTokens(5).build());
        } catch (StatusRuntimeException e) {
            return e;
        }
    }

    private static void assertRateLimited(StatusRuntimeException e, String budget) {
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        assertThat(errorInfo(e).getReason()).isEqualTo("RATE_LIMITED");
        assertThat(errorInfo(e).getMetadataMap()).containsEntry("budget", budget).containsKeys("limit", "spent");
        assertThat(e.getStatus().getDescription()).contains(budget + " budget");
    }

    /** The router's prompt estimate for {@link #QUESTION}. */
    private static long promptEstimate() {
        final ChatRequest request = ask("gpt", QUESTION);
        return PromptEstimate.tokens(new ChatCall("gpt", request.getMessagesList(), List.of(), List.of(), null, 0,
                                                  "", "", false));
    }

    /** The cost on deployment "gpt": 1 micro-USD per prompt token, 2 per completion token. */
    private static long cost(long prompt, long completion) {
        return prompt + 2 * completion;
    }

    private static JsonNode json(AggregatedHttpResponse response) {
        try {
            return new ObjectMapper().readTree(response.contentUtf8());
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
