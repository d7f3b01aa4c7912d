package ai.sonia.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.HashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import com.fasterxml.jackson.databind.ObjectMapper;

import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.RequestHeaders;
import com.linecorp.armeria.common.RequestHeadersBuilder;

import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.testing.EmbeddedPostgresExtension;

/** {@code "store": {"engine": "postgres"}}: two gateway replicas share the accounts; a start that fails closed. */
class PostgresEngineTest {

    @RegisterExtension
    static final EmbeddedPostgresExtension postgres = new EmbeddedPostgresExtension();

    private static final ObjectMapper mapper = new ObjectMapper();
    private static final String ADMIN_PASSWORD = "admin-password-123";

    @Test
    void aUserRegisteredThroughOneReplicaSignsInThroughTheOther() throws IOException {
        try (SoniaServer a = new GatewayModule().newServer(config(postgres.url())).start();
             SoniaServer b = new GatewayModule().newServer(config(postgres.url())).start()) {
            final String admin = mapper.readTree(login(a, "admin", ADMIN_PASSWORD).contentUtf8())
                                       .at("/data/access_token").asText();
            final AggregatedHttpResponse registered =
                    post(a, "/api/auth/register", "{\"username\":\"alice\",\"password\":\"alice-password-1\"}", admin);
            assertThat(registered.status().code()).as(registered.contentUtf8()).isEqualTo(200);
            assertThat(login(b, "alice", "alice-password-1").status().code()).isEqualTo(200);
            assertThat(login(b, "ALICE", "wrong-password-1").status().code()).isEqualTo(401);
        }
    }

    @Test
    void anUnreachablePostgresFailsTheStartNamingItAndNotThePassword() {
        final StackConfig config = config(EmbeddedPostgresExtension.UNREACHABLE);
        EmbeddedPostgresExtension.assertFailsClosed(() -> new GatewayModule().newServer(config));
    }

    /** A gateway home on the PostgreSQL at {@code url} (the same admin password in every replica's). */
    private static StackConfig config(String url) {
        final Map<String, String> env = new HashMap<>(AccountsTest.NOWHERE);
        env.put("SONIA_ADMIN_PASSWORD", ADMIN_PASSWORD);
        return GatewayHomes.gateway("postgres-gateway", "{}", EmbeddedPostgresExtension.storeSection(url) + ",", env);
    }

    private static AggregatedHttpResponse login(SoniaServer replica, String username, String password) {
        return post(replica, "/api/auth/login",
                    "{\"username\":\"" + username + "\",\"password\":\"" + password + "\"}", null);
    }

    private static AggregatedHttpResponse post(SoniaServer replica, String path, String json, String token) {
        final RequestHeadersBuilder headers = RequestHeaders.builder(HttpMethod.POST, path)
                                                             .contentType(MediaType.JSON_UTF_8);
        if (token != null) {
            headers.add("authorization", "Bearer " + token);
        }
        return WebClient.of("http://127.0.0.1:" + replica.port()).execute(headers.build(), json).aggregate().join();
    }
}
