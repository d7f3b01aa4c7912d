package ai.sonia.router;

import static ai.sonia.router.Requests.ask;
import static ai.sonia.runtime.testing.StatusDetails.badRequest;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import ai.sonia.common.v1.Role;
import ai.sonia.common.v1.TokenUsage;
import ai.sonia.router.FakeProvider.Dialect;
import ai.sonia.router.v1.ChatResponse;
import ai.sonia.router.v1.ContextPassage;
import ai.sonia.router.v1.ForecastUsageRequest;
import ai.sonia.router.v1.ForecastUsageResponse;
import ai.sonia.router.v1.GetUsageRequest;
import ai.sonia.router.v1.GetUsageResponse;
import ai.sonia.router.v1.RouterServiceGrpc.RouterServiceBlockingStub;
import ai.sonia.router.v1.UsageRow;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

class LedgerTest {

    private static final int CALLERS = 32;
    private static final int REQUESTS_PER_CALLER = 8;

    private final FakeProvider openai = new FakeProvider(Dialect.OPENAI, "a priced answer of seven words here");
    private final RouterFixture router = new RouterFixture(
            "{\"deployments\":[{\"name\":\"gpt\",\"provider\":\"openai\",\"model\":\"gpt-test\",\"baseUrl\":\""
            + openai.baseUrl() + "\",\"inputPriceMicrosPerMtok\":150000,\"outputPriceMicrosPerMtok\":600000},"
            + "{\"name\":\"pricey\",\"provider\":\"openai\",\"model\":\"gpt-big\",\"baseUrl\":\"" + openai.baseUrl()
            + "\",\"inputPriceMicrosPerMtok\":3000000,\"outputPriceMicrosPerMtok\":15000000},"
            + "{\"name\":\"extractive\",\"provider\":\"extractive\"}],"
            + "\"aliases\":{\"default\":[\"gpt\",\"extractive\"]}}");

    @AfterEach
    void tearDown() {
        router.close();
        openai.close();
    }

    @Test
    void ledgerSumsExactlyUnderConcurrentCallers() throws Exception {
        final ConcurrentLinkedQueue<ChatResponse> responses = new ConcurrentLinkedQueue<>();
        final ExecutorService pool = Executors.newFixedThreadPool(CALLERS);
        final CountDownLatch go = new CountDownLatch(1);
        final List<Future<?>> done = new ArrayList<>();
        for (int c = 0; c < CALLERS; c++) {
            final int caller = c;
            final RouterServiceBlockingStub stub = router.as(router.token("tenant-" + caller % 4, "user-" + caller,
                                                                          Role.ROLE_USER));
            done.add(pool.submit(() -> {
                go.await();
                for (int i = 0; i < REQUESTS_PER_CALLER; i++) {
                    final String model = (caller + i) % 3 == 0 ? "extractive" : (caller % 2 == 0 ? "gpt" : "pricey");
                    responses.add(stub.chat(ask(model, "question " + i + " of caller " + caller).toBuilder()
                            .addContext(ContextPassage.newBuilder().setSource("memories/" + i)
                                                      .setText("The question " + i + " is about caller " + caller + '.'))
                            .build()));
                }
                return null;
            }));
        }
        go.countDown();
        for (Future<?> f : done) {
            f.get();
        }
        pool.shutdown();

        // A service acting for itself sees every tenant.
        final RouterServiceBlockingStub service = router.as(router.serviceToken());
        final GetUsageResponse usage = service.getUsage(GetUsageRequest.getDefaultInstance());
        assertThat(responses).hasSize(CALLERS * REQUESTS_PER_CALLER);
        final TokenUsage fromResponses = sum(responses.stream().map(ChatResponse::getUsage).toList());
        final TokenUsage fromRows = sum(usage.getRowsList().stream().map(UsageRow::getUsage).toList());
        assertThat(usage.getTotal().getRequests()).isEqualTo(CALLERS * REQUESTS_PER_CALLER);
        assertThat(usage.getRowsList().stream().mapToLong(UsageRow::getRequests).sum())
                .isEqualTo(usage.getTotal().getRequests());
        assertThat(usage.getTotal().getUsage()).isEqualTo(fromResponses);
        assertThat(fromRows).isEqualTo(fromResponses);
        assertThat(fromResponses.getCostMicros()).isPositive();
        assertThat(usage.getRowsList()).extracting(UsageRow::getModel)
                                      .containsOnly("gpt", "pricey", "extractive");
        assertThat(usage.getRowsList()).extracting(UsageRow::getDay)
                                      .containsOnly(LocalDate.now(ZoneOffset.UTC).toString());

        assertThat(usage.getRowsList()).extracting(UsageRow::getTenant)
                                      .containsOnly("tenant-0", "tenant-1", "tenant-2", "tenant-3");
        final GetUsageResponse oneTenant = service.getUsage(GetUsageRequest.newBuilder().setTenant("tenant-1").build());
        assertThat(oneTenant.getRowsList()).extracting(UsageRow::getTenant).containsOnly("tenant-1");
        assertThat(oneTenant.getTotal().getUsage().getCostMicros())
                .isEqualTo(oneTenant.getRowsList().stream().mapToLong(r -> r.getUsage().getCostMicros()).sum());

        final ForecastUsageResponse forecast = service.forecastUsage(
                ForecastUsageRequest.newBuilder().setHorizonDays(7).build());
        assertThat(forecast.getMethod()).isEqualTo("linear-hourly-mean");
        assertThat(forecast.getHorizonHours()).isEqualTo(7 * 24);
        assertThat(forecast.getBasis().getWindowHours()).isEqualTo(168);
        assertThat(forecast.getBasis().getTokens()).isEqualTo(fromResponses.getTotalTokens());
        assertThat(forecast.getBasis().getCostMicros()).isEqualTo(fromResponses.getCostMicros());
        // This test's requests fall in one UTC hour, or two when it runs across the hour.
        final int points = forecast.getBasis().getPoints();
        assertThat(points).isBetween(1, 2);
        assertThat(forecast.getConfidence()).isLessThanOrEqualTo(points == 1 ? 0 : 2.0 / 168);
        assertThat(forecast.getProjected().getPromptTokens())
                .isEqualTo(Math.round(fromResponses.getPromptTokens() * 168.0 / points));
        assertThat(forecast.getProjected().getCostMicros())
                .isEqualTo(Math.round(fromResponses.getCostMicros() * 168.0 / points));
        assertThat(forecast.getCurrency()).isEqualTo("USD");
        assertThat(forecast.getProjectedCost()).isEqualTo(forecast.getProjected().getCostMicros() / 1e6);
        assertThat(forecast.getModelCostsList()).extracting(c -> c.getModel())
                                                .containsExactly("extractive", "gpt", "pricey");
    }

    @Test
    void forecastWithNoHistoryIsZeroWithNoConfidence() {
        final ForecastUsageResponse forecast = router.stub.forecastUsage(ForecastUsageRequest.getDefaultInstance());
        assertThat(forecast.getHorizonDays()).isEqualTo(30);
        assertThat(forecast.getBasisDays()).isZero();
        assertThat(forecast.getConfidence()).isZero();
        assertThat(forecast.getProjected().getTotalTokens()).isZero();
        assertThat(forecast.getBasis().getPoints()).isZero();
        assertThat(forecast.getBasis().getSummary()).isEqualTo("no usage in the 168-hour window: nothing to project");
    }

    @Test
    void badUsageQueriesNameTheField() {
        assertInvalid(() -> router.stub.getUsage(GetUsageRequest.newBuilder().setStartDay("2026-13-01").build()),
                      "start_day");
        assertInvalid(() -> router.stub.getUsage(GetUsageRequest.newBuilder().setStartDay("2026-02-01")
                                                                .setEndDay("2026-01-01").build()), "end_day");
        assertInvalid(() -> router.stub.forecastUsage(ForecastUsageRequest.newBuilder().setHorizonDays(-1).build()),
                      "horizon_days");
        assertInvalid(() -> router.stub.forecastUsage(ForecastUsageRequest.newBuilder().setWindowHours(-1).build()),
                      "window_hours");
        assertInvalid(() -> router.stub.forecastUsage(ForecastUsageRequest.newBuilder().setWindowHours(2161).build()),
                      "window_hours");
        assertInvalid(() -> router.stub.forecastUsage(ForecastUsageRequest.newBuilder().setHorizonHours(12)
                                                                          .setHorizonDays(1).build()),
                      "horizon_hours");
    }

    private static void assertInvalid(Runnable call, String field) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
            assertThat(badRequest(e).getFieldViolations(0).getField()).isEqualTo(field);
        });
    }

    private static TokenUsage sum(List<TokenUsage> usages) {
        long prompt = 0;
        long completion = 0;
        long cost = 0;
        for (TokenUsage u : usages) {
            prompt += u.getPromptTokens();
            completion += u.getCompletionTokens();
            cost += u.getCostMicros();
        }
        return TokenUsage.newBuilder().setPromptTokens(prompt).setCompletionTokens(completion)
                         .setTotalTokens(prompt + completion).setCostMicros(cost).build();
    }
}
