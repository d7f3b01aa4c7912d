package ai.sonia.memory;

import static ai.sonia.memory.CrossTenantTest.store;
import static ai.sonia.memory.MemoryTestServer.scope;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.linecorp.armeria.common.AggregatedHttpResponse;

import ai.sonia.common.v1.Role;
import ai.sonia.common.v1.Scope;
import ai.sonia.memory.v1.ForgetMemoryRequest;
import ai.sonia.memory.v1.GetMemoryRequest;
import ai.sonia.memory.v1.GetMemoryStatsRequest;
import ai.sonia.memory.v1.InvalidateMemoryRequest;
import ai.sonia.memory.v1.ListAuditRecordsRequest;
import ai.sonia.memory.v1.ListMemoriesRequest;
import ai.sonia.memory.v1.Memory;
import ai.sonia.memory.v1.MemoryServiceGrpc.MemoryServiceBlockingStub;
import ai.sonia.memory.v1.MemoryState;
import ai.sonia.memory.v1.SearchMemoriesRequest;
import ai.sonia.memory.v1.StoreMemoryRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * Inside one tenant: a plain user keeps to their own memories and reads the tenant-wide ones; an admin
 * reaches every user's and writes tenant-wide ones; a service acting for itself must name the tenant.
 */
class UserAndAdminTest {

    private MemoryTestServer server;
    private MemoryServiceBlockingStub ann;
    private MemoryServiceBlockingStub amy;
    private MemoryServiceBlockingStub boss;
    private Memory annsNote;
    private Memory amysNote;
    private Memory houseRule;

    @BeforeEach
    void start() {
        server = MemoryTestServer.fresh("user-admin");
        ann = server.as("acme", "ann", Role.ROLE_USER);
        amy = server.as("acme", "amy", Role.ROLE_USER);
        boss = server.as("acme", "boss", Role.ROLE_ADMIN);
        annsNote = ann.storeMemory(store(Scope.getDefaultInstance(), "Ann parks on level 2.")).getMemory();
        amysNote = amy.storeMemory(store(scope("", "amy", ""), "Amy parks on level 5.")).getMemory();
        houseRule = boss.storeMemory(store(Scope.getDefaultInstance(), "Visitors park on level 1.")
                                             .toBuilder().setTenantWide(true).build()).getMemory();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void anEmptyScopeIsTheCallersOwn() {
        assertThat(annsNote.getScope()).isEqualTo(scope("acme", "ann", ""));
        assertThat(amysNote.getScope()).isEqualTo(scope("acme", "amy", ""));
        assertThat(houseRule.getScope()).isEqualTo(scope("acme", "", ""));
        assertThat(boss.storeMemory(store(Scope.getDefaultInstance(), "Boss parks on the roof.")).getMemory()
                       .getScope()).isEqualTo(scope("acme", "boss", ""));
    }

    @Test
    void aUserReadsTheirOwnAndTheTenantWideMemoriesOnly() {
        assertThat(ann.listMemories(ListMemoriesRequest.getDefaultInstance()).getMemoriesList())
                .extracting(Memory::getName).containsExactlyInAnyOrder(annsNote.getName(), houseRule.getName());
        assertThat(ann.searchMemories(SearchMemoriesRequest.newBuilder().setQuery("who parks on level 5").build())
                      .getHitsList()).extracting(hit -> hit.getMemory().getName())
                                     .doesNotContain(amysNote.getName()).contains(houseRule.getName());
        assertThat(ann.getMemory(get(houseRule)).getText()).isEqualTo("Visitors park on level 1.");
        assertCode(() -> ann.getMemory(get(amysNote)), Status.Code.NOT_FOUND);
        assertCode(() -> ann.listMemories(ListMemoriesRequest.newBuilder().setScope(scope("", "amy", "")).build()),
                   Status.Code.PERMISSION_DENIED);
        assertCode(() -> ann.searchMemories(SearchMemoriesRequest.newBuilder().setQuery("level")
                                                                 .setScope(scope("acme", "amy", "")).build()),
                   Status.Code.PERMISSION_DENIED);
        assertCode(() -> ann.listMemories(ListMemoriesRequest.newBuilder().setAllUsers(true).build()),
                   Status.Code.PERMISSION_DENIED);
    }

    @Test
    void aUserWritesOnlyTheirOwnMemories() {
        assertCode(() -> ann.storeMemory(store(scope("", "amy", ""), "Amy owes Ann 5 euros.")),
                   Status.Code.PERMISSION_DENIED);
        assertCode(() -> ann.storeMemory(store(Scope.getDefaultInstance(), "Everybody parks on level 2.")
                                                 .toBuilder().setTenantWide(true).build()),
                   Status.Code.PERMISSION_DENIED);
        assertCode(() -> ann.invalidateMemory(InvalidateMemoryRequest.newBuilder().setName(amysNote.getName())
                                                                     .build()), Status.Code.NOT_FOUND);
        assertCode(() -> ann.forgetMemory(ForgetMemoryRequest.newBuilder().setName(amysNote.getName()).build()),
                   Status.Code.NOT_FOUND);
        assertCode(() -> ann.invalidateMemory(InvalidateMemoryRequest.newBuilder().setName(houseRule.getName())
                                                                     .build()), Status.Code.PERMISSION_DENIED);
        assertCode(() -> ann.forgetMemory(ForgetMemoryRequest.newBuilder().setName(houseRule.getName()).build()),
                   Status.Code.PERMISSION_DENIED);
        assertCode(() -> ann.storeMemory(store(Scope.getDefaultInstance(), "Visitors park outside.").toBuilder()
                                                 .setSupersedes(houseRule.getName()).build()),
                   Status.Code.PERMISSION_DENIED);

        assertThat(boss.getMemory(get(amysNote)).getState()).isEqualTo(MemoryState.MEMORY_STATE_ACTIVE);
        assertThat(boss.getMemory(get(houseRule)).getState()).isEqualTo(MemoryState.MEMORY_STATE_ACTIVE);
        assertThat(boss.listMemories(ListMemoriesRequest.newBuilder().setAllUsers(true).build()).getMemoriesCount())
                .isEqualTo(3);
        assertThat(ann.invalidateMemory(InvalidateMemoryRequest.newBuilder().setName(annsNote.getName()).build())
                      .getState()).isEqualTo(MemoryState.MEMORY_STATE_INVALIDATED);
    }

    @Test
    void anAdminReachesEveryUserOfTheTenant() {
        final Memory forAmy = boss.storeMemory(store(scope("acme", "amy", ""), "Amy's badge is renewed.")).getMemory();
        assertThat(forAmy.getScope().getUser()).isEqualTo("amy");
        assertThat(amy.getMemory(get(forAmy)).getText()).isEqualTo("Amy's badge is renewed.");
        assertThat(boss.listMemories(ListMemoriesRequest.newBuilder().setScope(scope("", "amy", "")).build())
                       .getMemoriesList()).extracting(Memory::getName)
                                          .containsExactlyInAnyOrder(amysNote.getName(), forAmy.getName(),
                                                                     houseRule.getName());
        assertThat(boss.searchMemories(SearchMemoriesRequest.newBuilder().setQuery("who parks on level 5")
                                                            .setAllUsers(true).build()).getHits(0).getMemory()
                       .getName()).isEqualTo(amysNote.getName());
        assertThat(boss.getMemory(get(annsNote)).getText()).isEqualTo("Ann parks on level 2.");
        assertThat(boss.invalidateMemory(InvalidateMemoryRequest.newBuilder().setName(annsNote.getName()).build())
                       .getState()).isEqualTo(MemoryState.MEMORY_STATE_INVALIDATED);
        boss.forgetMemory(ForgetMemoryRequest.newBuilder().setName(houseRule.getName()).build());
        assertCode(() -> ann.getMemory(get(houseRule)), Status.Code.NOT_FOUND);
    }

    @Test
    void statsAndAuditShowAUserTheirOwnAndAnAdminTheTenant() {
        assertThat(ann.getMemoryStats(GetMemoryStatsRequest.getDefaultInstance()))
                .satisfies(stats -> {
                    assertThat(stats.getActive()).isEqualTo(1);
                    assertThat(stats.getVectors()).isEqualTo(1);
                    assertThat(stats.getAuditRecords()).isEqualTo(1);
                    assertThat(stats.getDatabaseBytes()).isZero();
                });
        assertThat(boss.getMemoryStats(GetMemoryStatsRequest.newBuilder().setTenant("acme").build()))
                .satisfies(stats -> {
                    assertThat(stats.getActive()).isEqualTo(3);
                    assertThat(stats.getAuditRecords()).isEqualTo(3);
                    assertThat(stats.getDatabaseBytes()).isZero();
                });
        assertThat(server.stub.getMemoryStats(GetMemoryStatsRequest.getDefaultInstance()).getDatabaseBytes())
                .isPositive();
        assertThat(ann.listAuditRecords(ListAuditRecordsRequest.getDefaultInstance()).getAuditRecordsList())
                .singleElement().satisfies(r -> {
                    assertThat(r.getPrincipal()).isEqualTo("acme/ann");
                    assertThat(r.getMemory()).isEqualTo(annsNote.getName());
                });
        assertThat(boss.listAuditRecords(ListAuditRecordsRequest.getDefaultInstance()).getAuditRecordsList())
                .extracting(r -> r.getPrincipal()).containsExactly("acme/boss", "acme/amy", "acme/ann");
        final AggregatedHttpResponse rest = server.web("acme", "ann", Role.ROLE_USER).get("/v1/memories:stats")
                                                  .aggregate().join();
        assertThat(rest.status().code()).isEqualTo(200);
        assertThat(rest.contentUtf8()).contains("\"active\":\"1\"");
    }

    @Test
    void aServiceActingForItselfNamesTheTenant() {
        assertCode(() -> server.stub.listMemories(ListMemoriesRequest.getDefaultInstance()),
                   Status.Code.PERMISSION_DENIED);
        assertCode(() -> server.stub.storeMemory(store(Scope.getDefaultInstance(), "Whose is this?")),
                   Status.Code.PERMISSION_DENIED);
        assertThat(server.stub.listMemories(ListMemoriesRequest.newBuilder().setScope(scope("acme", "", ""))
                                                               .build()).getMemoriesCount()).isEqualTo(3);
        assertThat(server.stub.storeMemory(StoreMemoryRequest.newBuilder().setMemory(
                Memory.newBuilder().setScope(scope("globex", "bob", "")).setText("Bob starts on Monday.")).build())
                              .getMemory().getScope()).isEqualTo(scope("globex", "bob", ""));
    }

    private static GetMemoryRequest get(Memory memory) {
        return GetMemoryRequest.newBuilder().setName(memory.getName()).build();
    }

    private static void assertCode(ThrowingCallable call, Status.Code code) {
        assertThatThrownBy(call).isInstanceOfSatisfying(
                StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode()).isEqualTo(code));
    }
}
