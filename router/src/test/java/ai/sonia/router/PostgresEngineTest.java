package ai.sonia.router;

import static ai.sonia.router.Requests.ask;
import static ai.sonia.runtime.testing.StatusDetails.errorInfo;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import ai.sonia.common.v1.Role;
import ai.sonia.router.FakeProvider.Dialect;
import ai.sonia.router.domain.ChatCall;
import ai.sonia.router.domain.PromptEstimate;
import ai.sonia.router.v1.ChatRequest;
import ai.sonia.router.v1.ChatResponse;
import ai.sonia.router.v1.ContextPassage;
import ai.sonia.router.v1.GetBudgetRequest;
import ai.sonia.router.v1.GetBudgetResponse;
import ai.sonia.router.v1.GetUsageRequest;
import ai.sonia.router.v1.GetUsageResponse;
import ai.sonia.router.v1.RouterServiceGrpc;
import ai.sonia.router.v1.RouterServiceGrpc.RouterServiceBlockingStub;
import ai.sonia.runtime.testing.EmbeddedPostgresExtension;
import ai.sonia.runtime.testing.SoniaServiceExtension;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/** {@code "store": {"engine": "postgres"}}: two router replicas on one ledger, and a start that fails closed. */
class PostgresEngineTest {

    private static final int FITTING = 6;
    private static final int CALLS = 24;

    @RegisterExtension
    static final EmbeddedPostgresExtension postgres = new EmbeddedPostgresExtension();

    @Test
    void twoReplicasServeFromOneLedger() {
        final String config = postgres.stackConfig();
        try (SoniaServiceExtension a = SoniaServiceExtension.of(new RouterModule()).stackConfig(config).start();
             SoniaServiceExtension b = SoniaServiceExtension.of(new RouterModule()).stackConfig(config).start()) {
            for (SoniaServiceExtension replica : new SoniaServiceExtension[] {a, b, b}) {
                stub(replica).chat(ask("extractive", "What is the ledger?").toBuilder()
                        .addContext(ContextPassage.newBuilder().setSource("memories/1")
                                                  .setText("The ledger is shared by every replica."))
                        .build());
            }
            // Each replica's usage report counts what the other served.
            assertThat(stub(a).getUsage(GetUsageRequest.getDefaultInstance()).getTotal().getRequests()).isEqualTo(3);
            assertThat(stub(b).getUsage(GetUsageRequest.getDefaultInstance()).getTotal().getRequests()).isEqualTo(3);
        }
    }

    /**
     * One tenant with room for {@value #FITTING} calls, hammered through both replicas at once: the fake
     * provider reports exactly what each call reserves, so without a shared check each replica would admit
     * and charge up to the whole budget.
     */
    @Test
    void twoReplicasHammeredByOneTenantNeverChargeMoreThanItsBudget() throws Exception {
        try (FakeProvider openai = new FakeProvider(Dialect.OPENAI, "one two three four five")) {
            final long usage = promptEstimate() + 5;
            final long limit = FITTING * usage + usage - 1;
            openai.promptTokens(promptEstimate());
            final String config = EmbeddedPostgresExtension.stackConfig(postgres.url(), "\"services\":{\"router\":{\"deployments\":[{"
                    + "\"name\":\"gpt\",\"provider\":\"openai\",\"model\":\"gpt-test\",\"baseUrl\":\""
                    + openai.baseUrl() + "\"}],\"budgets\":{\"tenants\":{\"hammer\":{\"tokens\":" + limit + "}}}}}");
            try (SoniaServiceExtension a = SoniaServiceExtension.of(new RouterModule()).stackConfig(config).start();
                 SoniaServiceExtension b = SoniaServiceExtension.of(new RouterModule()).stackConfig(config).start()) {
                final RouterServiceBlockingStub[] replicas = {
                        a.stub(RouterServiceGrpc::newBlockingStub, a.token("hammer", "hal", Role.ROLE_USER)),
                        b.stub(RouterServiceGrpc::newBlockingStub, b.token("hammer", "hal", Role.ROLE_USER))};
                final ExecutorService pool = Executors.newFixedThreadPool(CALLS);
                final CountDownLatch go = new CountDownLatch(1);
                final List<Future<Object>> calls = new ArrayList<>();
                for (int i = 0; i < CALLS; i++) {
                    final RouterServiceBlockingStub replica = replicas[i % 2];
                    calls.add(pool.submit(() -> {
                        go.await();
                        try {
                            return replica.chat(ask("gpt", "how much is left?").toBuilder().setMaxTokens(5).build());
                        } catch (StatusRuntimeException e) {
                            return e;
                        }
                    }));
                }
                go.countDown();
                long servedTokens = 0;
                int served = 0;
                for (Future<Object> f : calls) {
                    final Object outcome = f.get();
                    if (outcome instanceof ChatResponse response) {
                        served++;
                        servedTokens += response.getUsage().getTotalTokens();
                    } else {
                        final StatusRuntimeException e = (StatusRuntimeException) outcome;
                        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
                        assertThat(errorInfo(e).getReason()).isEqualTo("RATE_LIMITED");
                        assertThat(errorInfo(e).getMetadataMap()).containsEntry("budget", "token")
                                                                 .containsEntry("limit", String.valueOf(limit));
                    }
                }
                pool.shutdown();

                assertThat(served).isPositive().isLessThanOrEqualTo(FITTING);
                final GetUsageResponse ledger = a.stub(RouterServiceGrpc::newBlockingStub, a.token("hammer", "boss", Role.ROLE_ADMIN))
                                                  .getUsage(GetUsageRequest.getDefaultInstance());
                assertThat(ledger.getTotal().getRequests()).isEqualTo(served);
                assertThat(ledger.getTotal().getUsage().getTotalTokens()).isEqualTo(servedTokens)
                                                                         .isLessThanOrEqualTo(limit);
                // Either replica's budget shows what both charged, with nothing left reserved.
                for (RouterServiceBlockingStub replica : replicas) {
                    final GetBudgetResponse budget = replica.getBudget(GetBudgetRequest.getDefaultInstance());
                    assertThat(budget.getSpentTokens()).isEqualTo(servedTokens);
                    assertThat(budget.getReservedTokens()).isZero();
                }
            }
        }
    }

    @Test
    void anUnreachablePostgresFailsTheStartNamingItAndNotThePassword() {
        final SoniaServiceExtension router = SoniaServiceExtension.of(new RouterModule())
                .stackConfig(EmbeddedPostgresExtension.stackConfig(EmbeddedPostgresExtension.UNREACHABLE));
        EmbeddedPostgresExtension.assertFailsClosed(router::start);
        router.close();
    }

    /** The router's prompt estimate for the question, which the fake provider reports back as its usage. */
    private static long promptEstimate() {
        final ChatRequest request = ask("gpt", "how much is left?");
        return PromptEstimate.tokens(new ChatCall("gpt", request.getMessagesList(), List.of(), List.of(), null, 0,
                                                  "", "", false));
    }

    private static RouterServiceBlockingStub stub(SoniaServiceExtension replica) {
        return replica.stub(RouterServiceGrpc::newBlockingStub, replica.adminToken());
    }
}
