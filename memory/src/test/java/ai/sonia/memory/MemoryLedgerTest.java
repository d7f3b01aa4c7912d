package ai.sonia.memory;

import static ai.sonia.memory.MemoryTestServer.scope;
import static ai.sonia.memory.MemoryTestServer.tenant;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import ai.sonia.common.v1.Role;
import ai.sonia.common.v1.Scope;
import ai.sonia.memory.v1.AuditAction;
import ai.sonia.memory.v1.AuditRecord;
import ai.sonia.memory.v1.ForgetMemoryRequest;
import ai.sonia.memory.v1.ForgetMemoryResponse;
import ai.sonia.memory.v1.GetMemoryRequest;
import ai.sonia.memory.v1.GetMemoryStatsRequest;
import ai.sonia.memory.v1.InvalidateMemoryRequest;
import ai.sonia.memory.v1.ListAuditRecordsRequest;
import ai.sonia.memory.v1.ListAuditRecordsResponse;
import ai.sonia.memory.v1.ListMemoriesRequest;
import ai.sonia.memory.v1.ListMemoriesResponse;
import ai.sonia.memory.v1.Memory;
import ai.sonia.memory.v1.MemoryKind;
import ai.sonia.memory.v1.MemoryState;
import ai.sonia.memory.v1.MemoryStats;
import ai.sonia.memory.v1.SearchHit;
import ai.sonia.memory.v1.SearchMemoriesRequest;
import ai.sonia.memory.v1.StoreMemoryRequest;
import ai.sonia.memory.v1.StoreMemoryResponse;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;

class MemoryLedgerTest {

    private static MemoryTestServer server;

    @BeforeAll
    static void start() {
        server = MemoryTestServer.fresh("ledger");
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void storingTheSameTextTwiceReturnsTheSameMemoryAndNeitherDuplicatesNorDeletes() {
        final Scope scope = scope("idem", "ann", "");
        final StoreMemoryResponse first = server.store(scope, "Ann's dog is called Pixel.");
        final StoreMemoryResponse second = server.store(scope, "  Ann's dog   is called Pixel. ");

        assertThat(first.getCreated()).isTrue();
        assertThat(second.getCreated()).isFalse();
        assertThat(second.getMemory().getName()).isEqualTo(first.getMemory().getName());
        assertThat(second.getMemory().getState()).isEqualTo(MemoryState.MEMORY_STATE_ACTIVE);
        final MemoryStats stats = server.stub.getMemoryStats(GetMemoryStatsRequest.newBuilder().setTenant("idem")
                                                                                  .build());
        assertThat(stats.getActive()).isEqualTo(1);
        assertThat(stats.getVectors()).isEqualTo(1);
        assertThat(auditActions(first.getMemory().getName())).containsExactly("STORE");

        // The same text in another scope is another memory.
        final StoreMemoryResponse other = server.store(scope("idem", "bob", ""), "Ann's dog is called Pixel.");
        assertThat(other.getCreated()).isTrue();
        assertThat(other.getMemory().getName()).isNotEqualTo(first.getMemory().getName());
    }

    @Test
    void supersedeLinksBothVersionsClosesTheOldOneAndKeepsHistory() {
        final Scope scope = scope("hist", "ann", "");
        final Memory old = server.store(scope, "Ann lives in Lyon.").getMemory();
        final StoreMemoryResponse replaced = server.stub.storeMemory(
                StoreMemoryRequest.newBuilder()
                                  .setMemory(Memory.newBuilder().setScope(scope).setText("Ann lives in Porto."))
                                  .setSupersedes(old.getName()).build());

        final Memory newer = replaced.getMemory();
        final Memory closed = server.stub.getMemory(GetMemoryRequest.newBuilder().setName(old.getName()).build());
        assertThat(newer.getSupersedes()).isEqualTo(old.getName());
        assertThat(closed.getState()).isEqualTo(MemoryState.MEMORY_STATE_SUPERSEDED);
        assertThat(closed.getSupersededBy()).isEqualTo(newer.getName());
        assertThat(closed.hasValidTo()).isTrue();
        assertThat(closed.getText()).isEqualTo("Ann lives in Lyon.");
        assertThat(auditActions(old.getName())).containsExactly("SUPERSEDE", "STORE");

        final List<String> active = search(scope, "where does Ann live", false);
        assertThat(active).contains(newer.getName()).doesNotContain(old.getName());
        assertThat(search(scope, "where does Ann live", true)).contains(newer.getName(), old.getName());

        // A closed memory cannot be superseded again: the history stays linear.
        assertThatThrownBy(() -> server.stub.storeMemory(
                StoreMemoryRequest.newBuilder()
                                  .setMemory(Memory.newBuilder().setScope(scope).setText("Ann lives in Oslo."))
                                  .setSupersedes(old.getName()).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode())
                        .isEqualTo(Status.Code.FAILED_PRECONDITION));
    }

    @Test
    void invalidateClosesWithoutSuccessorAndIsIdempotent() {
        final Scope scope = scope("inval", "ann", "");
        final Memory memory = server.store(scope, "Ann is allergic to peanuts.").getMemory();
        final InvalidateMemoryRequest request =
                InvalidateMemoryRequest.newBuilder().setName(memory.getName()).setReason("user said wrong").build();

        final Memory invalidated = server.stub.invalidateMemory(request);
        final Memory again = server.stub.invalidateMemory(request);

        assertThat(invalidated.getState()).isEqualTo(MemoryState.MEMORY_STATE_INVALIDATED);
        assertThat(invalidated.getSupersededBy()).isEmpty();
        assertThat(again.getValidTo()).isEqualTo(invalidated.getValidTo());
        assertThat(auditActions(memory.getName())).containsExactly("INVALIDATE", "STORE");
        assertThat(search(scope, "peanuts allergy", false)).doesNotContain(memory.getName());
        // The same text stored again is a new, active memory: the old one stays closed in history.
        final StoreMemoryResponse restored = server.store(scope, "Ann is allergic to peanuts.");
        assertThat(restored.getCreated()).isTrue();
        assertThat(restored.getMemory().getName()).isNotEqualTo(memory.getName());
    }

    @Test
    void forgetDeletesTextAndVectorAndTheAuditSaysSoWithoutTheText() {
        final Scope scope = scope("forget", "ann", "");
        final Memory memory = server.store(scope, "Ann's bank PIN is 4921.").getMemory();

        final ForgetMemoryResponse forgotten = server.stub.forgetMemory(
                ForgetMemoryRequest.newBuilder().setName(memory.getName()).setReason("asked to").build());

        assertThat(forgotten.getAuditRecord()).startsWith("auditRecords/");
        assertThatThrownBy(() -> server.stub.getMemory(GetMemoryRequest.newBuilder().setName(memory.getName())
                                                                       .build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode())
                        .isEqualTo(Status.Code.NOT_FOUND));
        assertThat(search(scope, "bank PIN 4921", true)).isEmpty();
        final MemoryStats stats = server.stub.getMemoryStats(GetMemoryStatsRequest.newBuilder().setTenant("forget")
                                                                                  .build());
        assertThat(stats.getActive()).isZero();
        assertThat(stats.getVectors()).isZero();
        final List<AuditRecord> records = audit(memory.getName());
        assertThat(records).extracting(AuditRecord::getAction)
                           .containsExactly(AuditAction.AUDIT_ACTION_FORGET, AuditAction.AUDIT_ACTION_STORE);
        assertThat(records).allSatisfy(r -> assertThat(r.getDetail()).doesNotContain("4921"));
        assertThatThrownBy(() -> server.stub.forgetMemory(ForgetMemoryRequest.newBuilder()
                                                                              .setName(memory.getName()).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode())
                        .isEqualTo(Status.Code.NOT_FOUND));
    }

    @Test
    void aMemoryPastItsTtlExpiresAndTheSweeperAuditsIt() {
        final Scope scope = scope("ttl", "ann", "");
        final Memory memory = server.stub.storeMemory(
                StoreMemoryRequest.newBuilder()
                                  .setMemory(Memory.newBuilder().setScope(scope).setText("The door code is 1234 today."))
                                  .setTtlSeconds(60).build()).getMemory();
        assertThat(memory.hasExpireTime()).isTrue();
        assertThat(search(scope, "door code", false)).contains(memory.getName());

        server.clock.advance(Duration.ofSeconds(61));

        assertThat(search(scope, "door code", false)).doesNotContain(memory.getName());
        final Memory expired = server.stub.getMemory(GetMemoryRequest.newBuilder().setName(memory.getName()).build());
        assertThat(expired.getState()).isEqualTo(MemoryState.MEMORY_STATE_EXPIRED);
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30))
                                 .until(() -> auditActions(memory.getName()).contains("EXPIRE"));
        // Storing the same text again after expiry makes a new memory.
        assertThat(server.store(scope, "The door code is 1234 today.").getCreated()).isTrue();
    }

    @Test
    void listPagesThroughAScopeNewestFirstWithTokens() {
        final Scope scope = scope("paging", "ann", "");
        final List<String> stored = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            stored.add(0, server.store(scope, "Note number " + i + " about paging.").getMemory().getName());
        }
        final List<String> listed = new ArrayList<>();
        String token = "";
        do {
            final ListMemoriesResponse page = server.stub.listMemories(
                    ListMemoriesRequest.newBuilder().setScope(scope).setPageSize(3).setPageToken(token).build());
            assertThat(page.getMemoriesCount()).isLessThanOrEqualTo(3);
            page.getMemoriesList().forEach(m -> listed.add(m.getName()));
            token = page.getNextPageToken();
        } while (!token.isEmpty());
        assertThat(listed).isEqualTo(stored);
        // A token does not carry over to another tenant's listing.
        final String first = server.stub.listMemories(ListMemoriesRequest.newBuilder().setScope(scope).setPageSize(3)
                                                                         .build()).getNextPageToken();
        assertThatThrownBy(() -> server.stub.listMemories(
                ListMemoriesRequest.newBuilder().setScope(tenant("other")).setPageToken(first).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode())
                        .isEqualTo(Status.Code.INVALID_ARGUMENT));
    }

    @Test
    void everyWriteIsAuditedWithThePrincipalAndTheRequestsCorrelationId() {
        final Metadata headers = new Metadata();
        headers.put(Metadata.Key.of("x-correlation-id", Metadata.ASCII_STRING_MARSHALLER), "corr-audit-42");
        final Memory memory = server.as("audit", "ann", Role.ROLE_USER)
                                    .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
                                    .storeMemory(StoreMemoryRequest.newBuilder().setMemory(
                                            Memory.newBuilder().setScope(scope("audit", "ann", ""))
                                                  .setKind(MemoryKind.MEMORY_KIND_FACT)
                                                  .setText("Ann prefers tea.")).build())
                                    .getMemory();

        final AuditRecord record = audit(memory.getName()).get(0);
        assertThat(record.getAction()).isEqualTo(AuditAction.AUDIT_ACTION_STORE);
        assertThat(record.getCorrelationId()).isEqualTo("corr-audit-42");
        assertThat(record.getTenant()).isEqualTo("audit");
        assertThat(record.getPrincipal()).isEqualTo("audit/ann");
    }

    @Test
    void auditRecordsPageNewestFirst() {
        final Scope scope = scope("auditpages", "ann", "");
        for (int i = 0; i < 5; i++) {
            server.store(scope, "Audit paging fact " + i);
        }
        final ListAuditRecordsResponse first = server.stub.listAuditRecords(
                ListAuditRecordsRequest.newBuilder().setPageSize(2).build());
        final ListAuditRecordsResponse second = server.stub.listAuditRecords(
                ListAuditRecordsRequest.newBuilder().setPageSize(2).setPageToken(first.getNextPageToken()).build());
        assertThat(first.getAuditRecordsCount()).isEqualTo(2);
        assertThat(id(second.getAuditRecords(0))).isLessThan(id(first.getAuditRecords(1)));
    }

    private static long id(AuditRecord record) {
        return Long.parseLong(record.getName().substring("auditRecords/".length()));
    }

    private static List<String> search(Scope scope, String query, boolean includeInactive) {
        return server.stub.searchMemories(SearchMemoriesRequest.newBuilder().setScope(scope).setQuery(query)
                                                               .setIncludeInactive(includeInactive).build())
                          .getHitsList().stream().map(SearchHit::getMemory).map(Memory::getName).toList();
    }

    private static List<AuditRecord> audit(String memory) {
        return server.stub.listAuditRecords(ListAuditRecordsRequest.newBuilder().setMemory(memory).build())
                          .getAuditRecordsList();
    }

    private static List<String> auditActions(String memory) {
        return audit(memory).stream().map(r -> r.getAction().name().replace("AUDIT_ACTION_", "")).toList();
    }
}
