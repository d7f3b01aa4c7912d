package ai.sonia.router;

import static ai.sonia.router.Requests.ask;
import static ai.sonia.runtime.testing.StatusDetails.badRequest;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import ai.sonia.common.v1.Role;
import ai.sonia.router.FakeProvider.Dialect;
import ai.sonia.router.v1.GetUsageRequest;
import ai.sonia.router.v1.GetUsageResponse;
import ai.sonia.router.v1.ListModelsRequest;
import ai.sonia.router.v1.ListModelsResponse;
import ai.sonia.router.v1.Model;
import ai.sonia.router.v1.RouterServiceGrpc.RouterServiceBlockingStub;
import ai.sonia.router.v1.UsageRow;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * The router's lists page with opaque keyset tokens: what appears between two pages makes nothing skipped or
 * repeated, and a token is good only for the query that made it.
 */
class PagingTest {

    private FakeProvider ollama;
    private RouterFixture router;

    @BeforeEach
    void start() {
        ollama = new FakeProvider(Dialect.OLLAMA, "hi");
        ollama.tags(List.of("llama3.2:latest", "mistral:7b"));
        router = new RouterFixture(
                "{\"deployments\":[{\"name\":\"local\",\"provider\":\"ollama\",\"model\":\"llama3.2\"},"
                + "{\"name\":\"extractive\",\"provider\":\"extractive\"}],"
                + "\"aliases\":{\"default\":[\"extractive\"]}}",
                Map.of("OLLAMA_BASE_URL", ollama.baseUrl()));
    }

    @AfterEach
    void stop() {
        router.close();
        ollama.close();
    }

    @Test
    void modelsThatAppearBetweenPagesMakeNoneSkippedOrRepeated() {
        final ListModelsResponse first = router.stub.listModels(ListModelsRequest.newBuilder().setPageSize(2).build());
        assertThat(first.getModelsList()).extracting(Model::getName).containsExactly("local", "extractive");
        // A model that sorts before the rest of the live ones, and one after.
        ollama.tags(List.of("llama3.2:latest", "mistral:7b", "gemma:2b", "qwen2.5:0.5b"));
        final List<String> rest = new ArrayList<>();
        String token = first.getNextPageToken();
        while (!token.isEmpty()) {
            final ListModelsResponse page = router.stub.listModels(
                    ListModelsRequest.newBuilder().setPageSize(1).setPageToken(token).build());
            page.getModelsList().forEach(m -> rest.add(m.getName()));
            token = page.getNextPageToken();
        }
        assertThat(rest).containsExactly("ollama/gemma:2b", "ollama/mistral:7b", "ollama/qwen2.5:0.5b");
    }

    @Test
    void usageRowsPageWithoutSkipOrRepeatWhileCallsAreServed() {
        final List<RouterServiceBlockingStub> tenants = new ArrayList<>();
        for (String tenant : List.of("t1", "t2", "t3", "t4")) {
            tenants.add(router.as(router.token(tenant, "user-" + tenant, Role.ROLE_USER)));
        }
        tenants.forEach(t -> t.chat(ask("extractive", "hello")));
        final RouterServiceBlockingStub service = router.as(router.serviceToken());

        final GetUsageResponse first = service.getUsage(GetUsageRequest.newBuilder().setPageSize(2).build());
        assertThat(first.getRowsList()).extracting(UsageRow::getTenant).containsExactly("t1", "t2");
        assertThat(first.getTotal().getRequests()).isEqualTo(4);
        tenants.get(0).chat(ask("extractive", "again")); // a group already listed
        tenants.get(3).chat(ask("extractive", "again")); // a group still to come
        final GetUsageResponse second = service.getUsage(
                GetUsageRequest.newBuilder().setPageSize(2).setPageToken(first.getNextPageToken()).build());
        assertThat(second.getRowsList()).extracting(UsageRow::getTenant).containsExactly("t3", "t4");
        assertThat(second.getRows(1).getRequests()).isEqualTo(2);
        assertThat(second.getTotal().getRequests()).isEqualTo(6);
        assertThat(second.getNextPageToken()).isEmpty();
    }

    @Test
    void aTokenOfAnotherQueryOrNoTokenAtAllIsInvalidArgument() {
        final String modelsToken = router.stub.listModels(ListModelsRequest.newBuilder().setPageSize(1).build())
                                              .getNextPageToken();
        assertThat(modelsToken).isNotEmpty();
        assertBadToken(() -> router.stub.getUsage(GetUsageRequest.newBuilder().setPageToken(modelsToken).build()));
        assertBadToken(() -> router.stub.getUsage(GetUsageRequest.newBuilder().setPageToken("10").build()));
        assertBadToken(() -> router.stub.listModels(ListModelsRequest.newBuilder().setPageToken("%%%").build()));

        final RouterServiceBlockingStub service = router.as(router.serviceToken());
        for (String tenant : List.of("a", "b")) {
            router.as(router.token(tenant, "u", Role.ROLE_USER)).chat(ask("extractive", "hi"));
        }
        final String usageToken = service.getUsage(GetUsageRequest.newBuilder().setPageSize(1).build())
                                         .getNextPageToken();
        assertThat(usageToken).isNotEmpty();
        // The same token with another filter (days, tenant) or on another list.
        assertBadToken(() -> service.getUsage(GetUsageRequest.newBuilder().setStartDay("2026-01-01")
                                                             .setPageToken(usageToken).build()));
        assertBadToken(() -> service.getUsage(GetUsageRequest.newBuilder().setTenant("a")
                                                             .setPageToken(usageToken).build()));
        assertBadToken(() -> router.stub.listModels(ListModelsRequest.newBuilder().setPageToken(usageToken).build()));
    }

    private static void assertBadToken(Runnable call) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
            assertThat(badRequest(e).getFieldViolations(0).getField()).isEqualTo("page_token");
        });
    }
}
