package ai.sonia.memory;

import static ai.sonia.memory.MemoryTestServer.scope;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.MediaType;

import ai.sonia.common.v1.Role;
import ai.sonia.memory.v1.Memory;
import ai.sonia.memory.v1.StoreMemoryRequest;

/** Every method is reachable over REST/JSON, with an access token, at the route its google.api.http gives. */
class RestRoutesTest {

    @Test
    void getListStatsAuditInvalidateAndForgetOverRest() {
        try (MemoryTestServer server = MemoryTestServer.fresh("rest")) {
            final String name = server.as("rest", "ann", Role.ROLE_USER).storeMemory(
                    StoreMemoryRequest.newBuilder().setMemory(Memory.newBuilder().setScope(scope("rest", "", ""))
                                                                    .setText("Ann's locker is number 17."))
                                      .build()).getMemory().getName();
            final WebClient client = server.web("rest", "ann", Role.ROLE_USER);

            assertThat(get(client, "/v1/" + name)).contains("Ann's locker is number 17.");
            assertThat(get(client, "/v1/memories?scope.tenant=rest&page_size=1")).contains(name);
            assertThat(get(client, "/v1/memories:stats?tenant=rest")).contains("\"active\":\"1\"");
            assertThat(get(client, "/v1/auditRecords?memory=" + name)).contains("\"action\":\"AUDIT_ACTION_STORE\"");
            assertThat(post(client, "/v1/" + name + ":invalidate", "{\"reason\":\"moved\"}"))
                    .contains("MEMORY_STATE_INVALIDATED");
            assertThat(post(client, "/v1/" + name + ":forget", "{}")).contains("auditRecords/");
            final AggregatedHttpResponse missing = client.get("/v1/" + name).aggregate().join();
            assertThat(missing.status().code()).isEqualTo(404);
            assertThat(missing.contentUtf8()).contains("NOT_FOUND");
        }
    }

    private static String get(WebClient client, String path) {
        final AggregatedHttpResponse response = client.get(path).aggregate().join();
        assertThat(response.status().code()).as(path + ": " + response.contentUtf8()).isEqualTo(200);
        return response.contentUtf8();
    }

    private static String post(WebClient client, String path, String body) {
        final AggregatedHttpResponse response =
                client.execute(HttpRequest.of(HttpMethod.POST, path, MediaType.JSON, body)).aggregate().join();
        assertThat(response.status().code()).as(path + ": " + response.contentUtf8()).isEqualTo(200);
        return response.contentUtf8();
    }
}
