package ai.sonia.memory;

import static ai.sonia.memory.MemoryTestServer.tenant;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

import com.linecorp.armeria.common.AggregatedHttpResponse;

import ai.sonia.common.v1.Role;
import ai.sonia.memory.v1.ListMemoriesRequest;
import ai.sonia.memory.v1.MemoryServiceGrpc.MemoryServiceBlockingStub;
import ai.sonia.runtime.auth.Principal;
import ai.sonia.runtime.auth.ServiceCredentialInterceptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * A user who reaches the memory service directly, not through the gateway, meets the same per-credential limit
 * there ({@code services.memory.rateLimits}, a key every service has): one user's calls cannot take the service's
 * CPU (each search embeds its query) from the others. What the gateway forwards for a user was counted at the
 * gateway, and a Sonia service's own calls are not limited.
 */
class DirectCallLimitsTest {

    private static final ListMemoriesRequest LIST = ListMemoriesRequest.newBuilder().setScope(tenant("acme")).build();

    @Test
    void aUsersDirectCallsAreLimitedAndForwardedOrServiceCallsAreNot() {
        try (MemoryTestServer server = MemoryTestServer.fresh(
                "direct-limits", "{\"rateLimits\":{\"perPrincipal\":{\"requests\":3,\"perSeconds\":60}}}")) {
            final MemoryServiceBlockingStub ann = server.as("acme", "ann", Role.ROLE_USER);
            for (int i = 0; i < 3; i++) {
                ann.listMemories(LIST);
            }
            assertThatThrownBy(() -> ann.listMemories(LIST)).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
                assertThat(e.getStatus().getDescription()).contains("too many requests for this credential");
            });
            final AggregatedHttpResponse refused = server.web("acme", "ann", Role.ROLE_USER)
                                                         .get("/v1/memories?scope.tenant=acme").aggregate().join();
            assertThat(refused.status().code()).isEqualTo(429);
            assertThat(refused.headers().get("retry-after")).isNotNull();

            // Another user is not held back.
            server.as("acme", "amy", Role.ROLE_USER).listMemories(LIST);
            // Calls the gateway forwards for ann were counted at the gateway; a service's own calls are not limited.
            final MemoryServiceBlockingStub forAnn = server.stub.withOption(
                    ServiceCredentialInterceptor.ACTING_FOR, Principal.user("acme", "ann", Role.ROLE_USER));
            for (int i = 0; i < 5; i++) {
                forAnn.listMemories(LIST);
                server.stub.listMemories(LIST);
            }
        }
    }
}
