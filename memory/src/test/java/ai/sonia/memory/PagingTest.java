package ai.sonia.memory;

import static ai.sonia.memory.MemoryTestServer.scope;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.google.rpc.BadRequest;

import ai.sonia.common.v1.Scope;
import ai.sonia.memory.v1.AuditRecord;
import ai.sonia.memory.v1.ListAuditRecordsRequest;
import ai.sonia.memory.v1.ListAuditRecordsResponse;
import ai.sonia.memory.v1.ListMemoriesRequest;
import ai.sonia.memory.v1.ListMemoriesResponse;
import ai.sonia.memory.v1.Memory;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;

/**
 * Every List of memory pages with the runtime's opaque keyset tokens (AIP-158): memories stored while a
 * caller pages neither appear twice nor push others out of sight, and a token is good only for the query
 * that made it.
 */
class PagingTest {

    private static MemoryTestServer server;

    @BeforeAll
    static void start() {
        server = MemoryTestServer.fresh("paging");
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void listMemoriesNeitherSkipsNorRepeatsWhileMemoriesAreStored() {
        final Scope scope = scope("paging", "ann", "");
        final List<String> before = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            before.add(server.store(scope, "Paged memory number " + i + '.').getMemory().getName());
        }
        final List<String> seen = new ArrayList<>();
        String token = "";
        int added = 0;
        do {
            final ListMemoriesResponse page = server.stub.listMemories(
                    ListMemoriesRequest.newBuilder().setScope(scope).setPageSize(3).setPageToken(token).build());
            page.getMemoriesList().stream().map(Memory::getName).forEach(seen::add);
            token = page.getNextPageToken();
            server.store(scope, "Stored while paging, number " + added++ + '.');
        } while (!token.isEmpty());

        assertThat(seen).doesNotHaveDuplicates().containsExactlyInAnyOrderElementsOf(before);
    }

    @Test
    void listAuditRecordsNeitherSkipsNorRepeatsWhileRecordsAreWritten() {
        final Scope scope = scope("paging-audit", "ann", "");
        for (int i = 0; i < 5; i++) {
            server.store(scope, "Audited paging memory " + i + '.');
        }
        final ListAuditRecordsRequest first = ListAuditRecordsRequest.newBuilder().setPageSize(2).build();
        final List<String> seen = new ArrayList<>();
        ListAuditRecordsResponse page = server.stub.listAuditRecords(first);
        final String newest = page.getAuditRecords(0).getName();
        while (true) {
            page.getAuditRecordsList().stream().map(AuditRecord::getName).forEach(seen::add);
            server.store(scope, "Written while paging the audit log " + seen.size() + '.');
            if (page.getNextPageToken().isEmpty()) {
                break;
            }
            page = server.stub.listAuditRecords(first.toBuilder().setPageToken(page.getNextPageToken()).build());
        }
        assertThat(seen).doesNotHaveDuplicates();
        final long newestId = Long.parseLong(newest.substring(newest.indexOf('/') + 1));
        // Every record up to the newest of the first page, once: the ids run from 1 without gaps.
        assertThat(seen).hasSize((int) newestId);
    }

    @Test
    void aTokenOfAnotherQueryOrNoTokenAtAllIsInvalidArgument() {
        final Scope scope = scope("paging-foreign", "ann", "");
        for (int i = 0; i < 3; i++) {
            server.store(scope, "Foreign token memory " + i + '.');
        }
        final String memoriesToken = server.stub.listMemories(
                ListMemoriesRequest.newBuilder().setScope(scope).setPageSize(1).build()).getNextPageToken();
        assertThat(memoriesToken).isNotEmpty();

        assertInvalidPageToken(() -> server.stub.listMemories(ListMemoriesRequest.newBuilder()
                .setScope(scope("paging-foreign", "bob", "")).setPageToken(memoriesToken).build()));
        assertInvalidPageToken(() -> server.stub.listMemories(ListMemoriesRequest.newBuilder().setScope(scope)
                .setIncludeInactive(true).setPageToken(memoriesToken).build()));
        assertInvalidPageToken(() -> server.stub.listAuditRecords(ListAuditRecordsRequest.newBuilder()
                .setPageToken(memoriesToken).build()));
        assertInvalidPageToken(() -> server.stub.listMemories(ListMemoriesRequest.newBuilder().setScope(scope)
                .setPageToken("bm90IGEgdG9rZW4").build()));
    }

    private static void assertInvalidPageToken(Runnable call) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
            assertThat(StatusProto.fromThrowable(e).getDetailsList()).anySatisfy(detail -> {
                assertThat(detail.is(BadRequest.class)).isTrue();
                assertThat(detail.unpack(BadRequest.class).getFieldViolations(0).getField()).isEqualTo("page_token");
            });
        });
    }
}
