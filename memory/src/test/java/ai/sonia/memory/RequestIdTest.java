package ai.sonia.memory;

import static ai.sonia.memory.MemoryTestServer.scope;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import ai.sonia.common.v1.Role;
import ai.sonia.memory.v1.ForgetMemoryRequest;
import ai.sonia.memory.v1.GetMemoryStatsRequest;
import ai.sonia.memory.v1.Memory;
import ai.sonia.memory.v1.MemoryServiceGrpc.MemoryServiceBlockingStub;
import ai.sonia.memory.v1.StoreMemoryRequest;
import ai.sonia.memory.v1.StoreMemoryResponse;

/** StoreMemory honours request_id (AIP-155): a retried create returns the first result, per principal. */
class RequestIdTest {

    @Test
    void aRetriedStoreReturnsTheFirstResponseAndWritesNothing() {
        try (MemoryTestServer server = MemoryTestServer.fresh("request-id")) {
            final MemoryServiceBlockingStub ann = server.as("rid", "ann", Role.ROLE_USER);
            final StoreMemoryRequest request = StoreMemoryRequest.newBuilder().setRequestId("retry-1").setMemory(
                    Memory.newBuilder().setScope(scope("rid", "", "")).setText("Ann's bike is red.")).build();

            final StoreMemoryResponse first = ann.storeMemory(request);
            final StoreMemoryResponse retried = ann.storeMemory(request);

            assertThat(first.getCreated()).isTrue();
            assertThat(retried).isEqualTo(first);
            assertThat(server.stub.getMemoryStats(GetMemoryStatsRequest.newBuilder().setTenant("rid").build())
                                  .getAuditRecords()).isEqualTo(1);

            // The same request id of another principal is another request.
            final StoreMemoryResponse bobs = server.as("rid", "bob", Role.ROLE_USER).storeMemory(request);
            assertThat(bobs.getCreated()).isTrue();
            assertThat(bobs.getMemory().getName()).isNotEqualTo(first.getMemory().getName());

            // A memory forgotten since is stored afresh.
            ann.forgetMemory(ForgetMemoryRequest.newBuilder().setName(first.getMemory().getName()).build());
            final StoreMemoryResponse again = ann.storeMemory(request);
            assertThat(again.getCreated()).isTrue();
            assertThat(again.getMemory().getName()).isNotEqualTo(first.getMemory().getName());
        }
    }
}
