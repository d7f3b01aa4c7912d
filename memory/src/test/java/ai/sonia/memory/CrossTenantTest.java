package ai.sonia.memory;

import static ai.sonia.memory.MemoryTestServer.scope;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.client.grpc.GrpcClients;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.MediaType;

import ai.sonia.common.v1.Role;
import ai.sonia.common.v1.Scope;
import ai.sonia.memory.v1.ForgetMemoryRequest;
import ai.sonia.memory.v1.GetMemoryRequest;
import ai.sonia.memory.v1.GetMemoryStatsRequest;
import ai.sonia.memory.v1.InvalidateMemoryRequest;
import ai.sonia.memory.v1.ListAuditRecordsRequest;
import ai.sonia.memory.v1.ListMemoriesRequest;
import ai.sonia.memory.v1.ListMemoriesResponse;
import ai.sonia.memory.v1.Memory;
import ai.sonia.memory.v1.MemoryServiceGrpc.MemoryServiceBlockingStub;
import ai.sonia.memory.v1.MemoryStats;
import ai.sonia.memory.v1.SearchMemoriesRequest;
import ai.sonia.memory.v1.StoreMemoryRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * Tenant acme's user (and even its admin) can neither reach nor change tenant globex's memories, by gRPC or
 * REST: naming globex is PERMISSION_DENIED (403); a globex memory by name is NOT_FOUND (404), said exactly as
 * for a memory that never existed; and globex's ledger is the same afterwards.
 */
class CrossTenantTest {

    private static final String MISSING = "memories/" + "0".repeat(32);

    private static MemoryTestServer server;
    private static Memory bobs;
    private static ListMemoriesResponse globexBefore;
    private static MemoryStats globexStatsBefore;

    @BeforeAll
    static void start() {
        server = MemoryTestServer.fresh("cross-tenant");
        bobs = server.as("globex", "bob", Role.ROLE_USER).storeMemory(store(Scope.getDefaultInstance(),
                                                                             "Bob's vault code is 4512."))
                     .getMemory();
        server.as("globex", "root", Role.ROLE_ADMIN).storeMemory(
                store(Scope.getDefaultInstance(), "Globex's vault is in the basement.").toBuilder()
                                                                                      .setTenantWide(true).build());
        server.as("acme", "ann", Role.ROLE_USER).storeMemory(store(Scope.getDefaultInstance(),
                                                                   "Ann's vault holds her grandmother's ring."));
        globexBefore = globex();
        globexStatsBefore = globexStats();
    }

    @AfterEach
    void globexIsUntouched() {
        assertThat(globex()).isEqualTo(globexBefore);
        assertThat(globexStats()).isEqualTo(globexStatsBefore);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void namingAnotherTenantIsPermissionDeniedOverGrpc() {
        for (Role role : new Role[] {Role.ROLE_USER, Role.ROLE_ADMIN}) {
            final MemoryServiceBlockingStub ann = server.as("acme", "ann", role);
            final Scope globex = scope("globex", "", "");
            assertCode(() -> ann.storeMemory(store(globex, "Ann was here.")), Status.Code.PERMISSION_DENIED);
            assertCode(() -> ann.searchMemories(SearchMemoriesRequest.newBuilder().setScope(globex)
                                                                     .setQuery("vault code").build()),
                       Status.Code.PERMISSION_DENIED);
            assertCode(() -> ann.listMemories(ListMemoriesRequest.newBuilder().setScope(globex).build()),
                       Status.Code.PERMISSION_DENIED);
            assertCode(() -> ann.getMemoryStats(GetMemoryStatsRequest.newBuilder().setTenant("globex").build()),
                       Status.Code.PERMISSION_DENIED);
        }
    }

    @Test
    void namingAnotherTenantIsForbiddenOverRest() {
        final WebClient ann = server.web("acme", "ann", Role.ROLE_USER);
        assertForbidden(post(ann, "/v1/memories:store",
                             "{\"memory\":{\"text\":\"Ann was here.\",\"scope\":{\"tenant\":\"globex\"}}}"));
        assertForbidden(post(ann, "/v1/memories:search",
                             "{\"query\":\"vault code\",\"scope\":{\"tenant\":\"globex\"}}"));
        assertForbidden(get(ann, "/v1/memories?scope.tenant=globex"));
        assertForbidden(get(ann, "/v1/memories:stats?tenant=globex"));
    }

    @Test
    void anotherTenantsMemoryIsNotFoundByNameOverGrpcAsIfItDidNotExist() {
        for (Role role : new Role[] {Role.ROLE_USER, Role.ROLE_ADMIN}) {
            final MemoryServiceBlockingStub ann = server.as("acme", "ann", role);
            assertNotFoundLikeMissing(name -> ann.getMemory(GetMemoryRequest.newBuilder().setName(name).build()));
            assertNotFoundLikeMissing(name -> ann.invalidateMemory(
                    InvalidateMemoryRequest.newBuilder().setName(name).setReason("mine now").build()));
            assertNotFoundLikeMissing(name -> ann.forgetMemory(ForgetMemoryRequest.newBuilder().setName(name)
                                                                                  .build()));
            assertNotFoundLikeMissing(name -> ann.storeMemory(store(Scope.getDefaultInstance(), "Ann's code is 1.")
                                                                      .toBuilder().setSupersedes(name).build()));
        }
    }

    @Test
    void anotherTenantsMemoryIsNotFoundByNameOverRest() {
        final WebClient ann = server.web("acme", "ann", Role.ROLE_USER);
        for (AggregatedHttpResponse response : new AggregatedHttpResponse[] {
                get(ann, "/v1/" + bobs.getName()),
                post(ann, "/v1/" + bobs.getName() + ":invalidate", "{\"reason\":\"mine now\"}"),
                post(ann, "/v1/" + bobs.getName() + ":forget", "{}")}) {
            assertThat(response.status().code()).as(response.contentUtf8()).isEqualTo(404);
            assertThat(response.contentUtf8()).contains("NOT_FOUND").doesNotContain("vault");
        }
        final String missing = get(ann, "/v1/" + MISSING).contentUtf8();
        final String hidden = get(ann, "/v1/" + bobs.getName()).contentUtf8();
        assertThat(withoutVolatile(hidden).replace(bobs.getName(), MISSING)).isEqualTo(withoutVolatile(missing));
    }

    @Test
    void searchListAndAuditNeverShowAnotherTenant() {
        final MemoryServiceBlockingStub admin = server.as("acme", "boss", Role.ROLE_ADMIN);
        assertThat(admin.searchMemories(SearchMemoriesRequest.newBuilder().setQuery("vault code").setAllUsers(true)
                                                             .build()).getHitsList())
                .extracting(hit -> hit.getMemory().getScope().getTenant()).containsOnly("acme");
        assertThat(admin.listMemories(ListMemoriesRequest.newBuilder().setAllUsers(true).build())
                        .getMemoriesList()).extracting(m -> m.getScope().getTenant()).containsOnly("acme");
        assertThat(admin.listAuditRecords(ListAuditRecordsRequest.getDefaultInstance()).getAuditRecordsList())
                .isNotEmpty().allSatisfy(r -> assertThat(r.getTenant()).isEqualTo("acme"));
        assertThat(admin.listAuditRecords(ListAuditRecordsRequest.newBuilder().setMemory(bobs.getName()).build())
                        .getAuditRecordsList()).isEmpty();
        assertThat(get(server.web("acme", "ann", Role.ROLE_USER), "/v1/auditRecords").contentUtf8())
                .contains("acme/ann").doesNotContain("globex");
    }

    @Test
    void withoutACredentialNothingAnswers() {
        final AggregatedHttpResponse rest = WebClient.of(server.uri()).get("/v1/memories?scope.tenant=globex")
                                                     .aggregate().join();
        assertThat(rest.status().code()).isEqualTo(401);
        assertThat(rest.contentUtf8()).contains("UNAUTHENTICATED").doesNotContain("vault");
        assertCode(() -> GrpcClients.newClient(server.uri(), MemoryServiceBlockingStub.class)
                                    .getMemory(GetMemoryRequest.newBuilder().setName(bobs.getName()).build()),
                   Status.Code.UNAUTHENTICATED);
    }

    private static ListMemoriesResponse globex() {
        return server.stub.listMemories(ListMemoriesRequest.newBuilder().setScope(scope("globex", "", ""))
                                                           .setIncludeInactive(true).build());
    }

    private static MemoryStats globexStats() {
        return server.stub.getMemoryStats(GetMemoryStatsRequest.newBuilder().setTenant("globex").build());
    }

    /** The call fails for bob's memory exactly as for one that never existed, but for the name. */
    private static void assertNotFoundLikeMissing(java.util.function.Consumer<String> call) {
        final StatusRuntimeException hidden = failure(() -> call.accept(bobs.getName()));
        final StatusRuntimeException missing = failure(() -> call.accept(MISSING));
        assertThat(hidden.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
        assertThat(hidden.getStatus().getDescription().replace(bobs.getName(), MISSING))
                .isEqualTo(missing.getStatus().getDescription());
    }

    private static StatusRuntimeException failure(ThrowingCallable call) {
        final Throwable thrown = org.assertj.core.api.Assertions.catchThrowable(call);
        assertThat(thrown).isInstanceOf(StatusRuntimeException.class);
        return (StatusRuntimeException) thrown;
    }

    private static void assertCode(ThrowingCallable call, Status.Code code) {
        assertThatThrownBy(call).isInstanceOfSatisfying(
                StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode()).isEqualTo(code));
    }

    private static void assertForbidden(AggregatedHttpResponse response) {
        assertThat(response.status().code()).as(response.contentUtf8()).isEqualTo(403);
        assertThat(response.contentUtf8()).contains("PERMISSION_DENIED");
    }

    /** The envelope without what differs per request: its correlation id and duration. */
    private static String withoutVolatile(String envelope) {
        return envelope.replaceAll("\"correlation_id\":\"[^\"]*\"", "").replaceAll("\"duration_ms\":[0-9.]+", "");
    }

    static StoreMemoryRequest store(Scope scope, String text) {
        return StoreMemoryRequest.newBuilder().setMemory(Memory.newBuilder().setScope(scope).setText(text)).build();
    }

    private static AggregatedHttpResponse get(WebClient client, String path) {
        return client.get(path).aggregate().join();
    }

    private static AggregatedHttpResponse post(WebClient client, String path, String body) {
        return client.execute(HttpRequest.of(HttpMethod.POST, path, MediaType.JSON, body)).aggregate().join();
    }
}
