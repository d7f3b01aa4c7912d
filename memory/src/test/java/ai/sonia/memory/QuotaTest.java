package ai.sonia.memory;

import static ai.sonia.memory.CrossTenantTest.store;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;

import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.MediaType;

import ai.sonia.common.v1.Role;
import ai.sonia.common.v1.Scope;
import ai.sonia.memory.v1.ForgetMemoryRequest;
import ai.sonia.memory.v1.InvalidateMemoryRequest;
import ai.sonia.memory.v1.ListMemoriesRequest;
import ai.sonia.memory.v1.Memory;
import ai.sonia.memory.v1.MemoryServiceGrpc.MemoryServiceBlockingStub;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * A self-registered user cannot fill the disk every other user's memories live on: each user keeps at most
 * {@code maxMemoriesPerUser} memories (in any state but forgotten) of at most {@code maxTextCharsPerUser}
 * characters together; past either, a store is RATE_LIMITED (gRPC RESOURCE_EXHAUSTED, HTTP 429) for that user
 * alone, and forgetting makes room again.
 */
class QuotaTest {

    private static final String QUOTA = "{\"maxMemoriesPerUser\":3,\"maxTextChars\":40,\"maxTextCharsPerUser\":100}";

    @Test
    void aUserAtTheCountQuotaIsRefusedAloneAndForgettingMakesRoom() {
        try (MemoryTestServer server = MemoryTestServer.fresh("quota-count", QUOTA)) {
            final MemoryServiceBlockingStub ann = server.as("acme", "ann", Role.ROLE_USER);
            final Memory first = ann.storeMemory(store(Scope.getDefaultInstance(), "Ann likes green tea.")).getMemory();
            ann.storeMemory(store(Scope.getDefaultInstance(), "Ann parks on level 2."));
            final Memory third = ann.storeMemory(store(Scope.getDefaultInstance(), "Ann's desk is 4.12.")).getMemory();
            // An invalidated memory keeps its text in the ledger, so it still counts.
            ann.invalidateMemory(InvalidateMemoryRequest.newBuilder().setName(third.getName()).build());

            assertRefused(() -> ann.storeMemory(store(Scope.getDefaultInstance(), "Ann's cat is Miso.")),
                          "memories_per_user limit reached: you hold 3 memories");
            // The same text again is the memory already held, not a new one: answered, not refused.
            assertThat(ann.storeMemory(store(Scope.getDefaultInstance(), "Ann likes green tea.")).getCreated())
                    .isFalse();
            // Another user of the same tenant, and a user of another tenant, store as before.
            assertThat(server.as("acme", "amy", Role.ROLE_USER)
                             .storeMemory(store(Scope.getDefaultInstance(), "Amy's cat is Pixel.")).getCreated())
                    .isTrue();
            assertThat(server.as("other", "ann", Role.ROLE_USER)
                             .storeMemory(store(Scope.getDefaultInstance(), "Other Ann rides a bike.")).getCreated())
                    .isTrue();

            ann.forgetMemory(ForgetMemoryRequest.newBuilder().setName(first.getName()).build());
            assertThat(ann.storeMemory(store(Scope.getDefaultInstance(), "Ann's cat is Miso.")).getCreated()).isTrue();
            assertRefused(() -> ann.storeMemory(store(Scope.getDefaultInstance(), "Ann's dog is Rex.")),
                          "memories_per_user limit reached");
        }
    }

    @Test
    void theQuotaHoldsAcrossARestartAndOverRest() {
        final Path home;
        try (MemoryTestServer server = MemoryTestServer.fresh("quota-restart", QUOTA)) {
            home = server.home;
            final MemoryServiceBlockingStub ann = server.as("acme", "ann", Role.ROLE_USER);
            for (String text : new String[] {"One.", "Two.", "Three."}) {
                ann.storeMemory(store(Scope.getDefaultInstance(), text));
            }
        }
        try (MemoryTestServer server = MemoryTestServer.reopen(home)) {
            final AggregatedHttpResponse refused = server.web("acme", "ann", Role.ROLE_USER).execute(
                    HttpRequest.of(HttpMethod.POST, "/v1/memories:store", MediaType.JSON,
                                   "{\"memory\":{\"text\":\"Four.\"}}")).aggregate().join();
            assertThat(refused.status().code()).isEqualTo(429);
            assertThat(refused.contentUtf8()).contains("\"code\":\"RATE_LIMITED\"").contains("memories_per_user");
        }
    }

    @Test
    void aUserPastTheTextQuotaIsRefusedAndNothingOfTheStoreIsKept() {
        try (MemoryTestServer server = MemoryTestServer.fresh("quota-text", QUOTA)) {
            final MemoryServiceBlockingStub ann = server.as("acme", "ann", Role.ROLE_USER);
            final String forty = "Ann's long note number one, forty chars.";
            ann.storeMemory(store(Scope.getDefaultInstance(), forty));
            ann.storeMemory(store(Scope.getDefaultInstance(), forty.replace("one", "two")));
            assertRefused(() -> ann.storeMemory(store(Scope.getDefaultInstance(), forty.replace("one", "six"))),
                          "text_chars_per_user limit reached");
            // The refused store left nothing behind: a short one still fits (80 + 6 <= 100).
            assertThat(ann.storeMemory(store(Scope.getDefaultInstance(), "Short.")).getCreated()).isTrue();
            assertThat(ann.listMemories(ListMemoriesRequest.getDefaultInstance())
                          .getMemoriesCount()).isEqualTo(3);
        }
    }

    private static void assertRefused(ThrowingCallable call, String message) {
        assertThatThrownBy(call).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
            assertThat(e.getStatus().getDescription()).contains(message);
        });
    }
}
