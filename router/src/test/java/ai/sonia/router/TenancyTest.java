package ai.sonia.router;

import static ai.sonia.router.Requests.ask;
import static ai.sonia.runtime.testing.StatusDetails.errorInfo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.MediaType;

import ai.sonia.common.v1.Role;
import ai.sonia.router.v1.Caller;
import ai.sonia.router.v1.ChatRequest;
import ai.sonia.router.v1.EmbedRequest;
import ai.sonia.router.v1.ForecastUsageRequest;
import ai.sonia.router.v1.GetBudgetRequest;
import ai.sonia.router.v1.GetUsageRequest;
import ai.sonia.router.v1.GetUsageResponse;
import ai.sonia.router.v1.RouterServiceGrpc.RouterServiceBlockingStub;
import ai.sonia.router.v1.StreamChatRequest;
import ai.sonia.router.v1.UsageRow;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * The tenant charged and the usage shown come from the credential, never from the request: naming another
 * tenant is PERMISSION_DENIED (403) over gRPC and REST; a user sees their own usage, an admin their tenant's,
 * a service acting for itself every tenant's.
 */
class TenancyTest {

    private static final String CHAT_NAMING_GLOBEX =
            "{\"messages\":[{\"role\":\"ROLE_USER\",\"content\":\"hi\"}],\"caller\":{\"tenant\":\"globex\"}}";
    private static RouterFixture router;
    private static RouterServiceBlockingStub alice;
    private static RouterServiceBlockingStub bob;
    private static RouterServiceBlockingStub acmeAdmin;
    private static RouterServiceBlockingStub gina;
    private static String aliceToken;

    @BeforeAll
    static void start() {
        router = new RouterFixture("{\"deployments\":[{\"name\":\"extractive\",\"provider\":\"extractive\"}]}");
        aliceToken = router.token("acme", "alice", Role.ROLE_USER);
        alice = router.as(aliceToken);
        bob = router.as(router.token("acme", "bob", Role.ROLE_USER));
        acmeAdmin = router.as(router.token("acme", "root", Role.ROLE_ADMIN));
        gina = router.as(router.token("globex", "gina", Role.ROLE_USER));
        // Alice claims to be bob in the body, and names her own tenant: both allowed, the claim ignored.
        alice.chat(ask("", "one").toBuilder()
                                 .setCaller(Caller.newBuilder().setTenant("acme").setPrincipal("bob")).build());
        alice.chat(ask("", "two"));
        bob.chat(ask("", "three"));
        gina.chat(ask("", "four"));
    }

    @AfterAll
    static void stop() {
        router.close();
    }

    @Test
    void requestsNamingAnotherTenantAreDeniedOverGrpc() {
        final Caller globex = Caller.newBuilder().setTenant("globex").build();
        assertDenied(() -> alice.chat(ask("", "hi").toBuilder().setCaller(globex).build()));
        assertDenied(() -> alice.streamChat(StreamChatRequest.newBuilder().addMessages(Requests.user("hi"))
                                                             .setCaller(globex).build()).hasNext());
        assertDenied(() -> alice.embed(EmbedRequest.newBuilder().addInputs("hi").setCaller(globex).build()));
        assertDenied(() -> alice.getUsage(GetUsageRequest.newBuilder().setTenant("globex").build()));
        assertDenied(() -> acmeAdmin.getUsage(GetUsageRequest.newBuilder().setTenant("globex").build()));
        assertDenied(() -> alice.forecastUsage(ForecastUsageRequest.newBuilder().setTenant("globex").build()));
        assertDenied(() -> alice.getBudget(GetBudgetRequest.newBuilder().setTenant("globex").build()));
        // Nothing was charged to globex by those attempts.
        assertThat(gina.getBudget(GetBudgetRequest.getDefaultInstance()).getSpentTokens())
                .isEqualTo(gina.getUsage(GetUsageRequest.getDefaultInstance()).getTotal().getUsage().getTotalTokens());
        assertThat(gina.getUsage(GetUsageRequest.getDefaultInstance()).getTotal().getRequests()).isEqualTo(1);
    }

    @ParameterizedTest
    @ValueSource(strings = {"/v1/usage?tenant=globex", "/v1/usage:forecast?tenant=globex", "/v1/forecast/globex",
                            "/v1/forecast/globex?window_hours=24", "/v1/budget?tenant=globex"})
    void readsNamingAnotherTenantAreForbiddenOverRest(String path) {
        assertForbidden(router.web(aliceToken).get(path).aggregate().join());
    }

    @Test
    void chatNamingAnotherTenantIsForbiddenOverRest() {
        assertForbidden(router.web(aliceToken).execute(HttpRequest.of(HttpMethod.POST, "/v1/chat:complete",
                                                                      MediaType.JSON, CHAT_NAMING_GLOBEX))
                              .aggregate().join());
    }

    @Test
    void withoutACredentialNothingAnswers() {
        assertThat(WebClient.of(router.uri()).get("/v1/usage").aggregate().join().status().code()).isEqualTo(401);
        assertThatThrownBy(() -> router.as("not-a-token").getUsage(GetUsageRequest.getDefaultInstance()))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
    }

    @Test
    void aUserSeesTheirOwnUsageAndAnAdminTheTenants() {
        final GetUsageResponse own = alice.getUsage(GetUsageRequest.getDefaultInstance());
        assertThat(own.getTotal().getRequests()).isEqualTo(2);
        assertThat(own.getRowsList()).extracting(UsageRow::getTenant).containsOnly("acme");
        assertThat(bob.getUsage(GetUsageRequest.newBuilder().setTenant("acme").build()).getTotal().getRequests())
                .isEqualTo(1);
        final GetUsageResponse tenant = acmeAdmin.getUsage(GetUsageRequest.getDefaultInstance());
        assertThat(tenant.getTotal().getRequests()).isEqualTo(3);
        assertThat(tenant.getRowsList()).extracting(UsageRow::getTenant).containsOnly("acme");
        assertThat(alice.forecastUsage(ForecastUsageRequest.newBuilder().setHorizonDays(1).build())
                        .getBasis().getTokens()).isEqualTo(own.getTotal().getUsage().getTotalTokens());
        assertThat(acmeAdmin.forecastUsage(ForecastUsageRequest.getDefaultInstance()).getBasis().getTokens())
                .isEqualTo(tenant.getTotal().getUsage().getTotalTokens());

        final JsonNode rest = json(router.web(aliceToken).get("/v1/usage").aggregate().join());
        assertThat(rest.path("data").path("total").path("requests").asLong()).isEqualTo(2);
        // The budget is the tenant's: any member sees the tenant's spend.
        assertThat(alice.getBudget(GetBudgetRequest.getDefaultInstance()).getSpentTokens())
                .isEqualTo(tenant.getTotal().getUsage().getTotalTokens());
    }

    @Test
    void aServiceActingForItselfSeesEveryTenantAndMustNameOneToChat() {
        final RouterServiceBlockingStub service = router.as(router.serviceToken());
        final GetUsageResponse all = service.getUsage(GetUsageRequest.getDefaultInstance());
        assertThat(all.getRowsList()).extracting(UsageRow::getTenant).contains("acme", "globex");
        assertThat(service.getUsage(GetUsageRequest.newBuilder().setTenant("globex").build()).getRowsList())
                .extracting(UsageRow::getTenant).containsOnly("globex");
        assertDenied(() -> service.chat(ask("", "hi")));
        final ChatRequest forInitech = ask("", "hi").toBuilder()
                                                    .setCaller(Caller.newBuilder().setTenant("initech")).build();
        service.chat(forInitech);
        assertThat(service.getUsage(GetUsageRequest.newBuilder().setTenant("initech").build()).getTotal()
                          .getRequests()).isEqualTo(1);
    }

    private static void assertDenied(ThrowingCallable call) {
        assertThatThrownBy(call).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
            assertThat(errorInfo(e).getReason()).isEqualTo("PERMISSION_DENIED");
        });
    }

    private static void assertForbidden(AggregatedHttpResponse response) {
        assertThat(response.status().code()).isEqualTo(403);
        assertThat(json(response).path("error").path("code").asText()).isEqualTo("PERMISSION_DENIED");
    }

    private static JsonNode json(AggregatedHttpResponse response) {
        try {
            return new ObjectMapper().readTree(response.contentUtf8());
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
