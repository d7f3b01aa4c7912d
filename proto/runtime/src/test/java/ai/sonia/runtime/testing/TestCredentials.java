package ai.sonia.runtime.testing;

import java.time.Duration;
import java.util.UUID;

import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.common.HttpHeaderNames;

import ai.sonia.common.v1.Role;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.auth.AccessTokens;
import ai.sonia.runtime.auth.Principal;
import io.grpc.ClientInterceptor;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;

/**
 * Credentials for tests, signed with the test home's own keys, exactly as the gateway signs them: a user's
 * access token, a gRPC interceptor or a web client that sends it.
 */
public final class TestCredentials {

    /** An access token of {@code user} in {@code tenant} with {@code role}, valid for an hour. */
    public static String token(StackConfig config, String tenant, String user, Role role) {
        return AccessTokens.of(config).issue(Principal.user(tenant, user, role), UUID.randomUUID().toString(),
                                             Duration.ofHours(1));
    }

    /** An access token of a plain user. */
    public static String userToken(StackConfig config, String tenant, String user) {
        return token(config, tenant, user, Role.ROLE_USER);
    }

    /** An access token of the admin of the "default" tenant. */
    public static String adminToken(StackConfig config) {
        return token(config, "default", "admin", Role.ROLE_ADMIN);
    }

    /** Sends {@code Authorization: Bearer <token>} with every call of a stub. */
    public static ClientInterceptor bearer(String token) {
        final Metadata headers = new Metadata();
        headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token);
        return MetadataUtils.newAttachHeadersInterceptor(headers);
    }

    /** A web client of {@code baseUri} that sends the token with every request. */
    public static WebClient webClient(String baseUri, String token) {
        return WebClient.builder(baseUri)
                        .addHeader(HttpHeaderNames.AUTHORIZATION, "Bearer " + token)
                        .build();
    }

    private TestCredentials() {}
}
