package ai.sonia.runtime.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.RequestHeaders;

import ai.sonia.common.v1.Role;
import ai.sonia.memory.v1.GetMemoryRequest;
import ai.sonia.memory.v1.Memory;
import ai.sonia.memory.v1.MemoryServiceGrpc;
import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.Stack;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.client.SoniaChannels;
import ai.sonia.runtime.testing.TestCredentials;
import ai.sonia.runtime.testing.TestHomes;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;

/**
 * The front door every service shares: nothing but {@code /healthz} answers without a credential, over REST
 * or gRPC; forged, expired, wrong-audience, wrongly typed and unsigned tokens are refused; a valid token's
 * principal reaches the service; a service credential forwards the user it acts for.
 */
class AuthEdgeTest {

    private static final ObjectMapper mapper = new ObjectMapper();
    private static StackConfig config;
    private static SoniaServer server;
    private static String base;

    /** Answers GetMemory with the principal it sees, as {@code audit|via|role}. */
    static final class WhoAmI extends MemoryServiceGrpc.MemoryServiceImplBase {
        @Override
        public void getMemory(GetMemoryRequest request, StreamObserver<Memory> observer) {
            final Principal p = Principal.current();
            observer.onNext(Memory.newBuilder().setName(p.audit() + '|' + p.via() + '|' + p.role()).build());
            observer.onCompleted();
        }
    }

    @BeforeAll
    static void start() {
        config = TestHomes.config("auth-edge", "memory")
                          .withEnv(Map.of("SONIA_CORS_ORIGINS", "https://app.example"));
        server = SoniaServer.builder(Stack.MEMORY, config).addService(new WhoAmI()).build().start();
        base = "http://127.0.0.1:" + server.port();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {"/", "/status", "/metrics", "/docs/", "/v1/memories/a", "/v1/memories:stats",
                            "/nothing-here"})
    void everyRouteButHealthzNeedsACredential(String path) throws Exception {
        final AggregatedHttpResponse response = WebClient.of(base).get(path).aggregate().join();
        assertThat(response.status().code()).isEqualTo(401);
        assertThat(response.headers().get("www-authenticate")).startsWith("Bearer");
        final JsonNode envelope = mapper.readTree(response.contentUtf8());
        assertThat(envelope.get("ok").asBoolean()).isFalse();
        assertThat(envelope.get("error").get("code").asText()).isEqualTo("UNAUTHENTICATED");
        assertThat(envelope.get("correlation_id").asText()).isNotEmpty();
    }

    @Test
    void healthzIsOpen() {
        assertThat(WebClient.of(base).get("/healthz").aggregate().join().status().code()).isEqualTo(200);
    }

    @Test
    void grpcWithoutCredentialIsUnauthenticated() {
        final ManagedChannel channel = SoniaChannels.forTarget("127.0.0.1:" + server.port(), Stack.MEMORY);
        try {
            assertThatThrownBy(() -> MemoryServiceGrpc.newBlockingStub(channel)
                                                      .getMemory(GetMemoryRequest.newBuilder().setName("memories/a").build()))
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
                        assertThat(io.grpc.protobuf.StatusProto.fromThrowable(e).getDetailsList())
                                .anySatisfy(any -> assertThat(any.unpack(com.google.rpc.ErrorInfo.class).getReason())
                                        .isEqualTo("UNAUTHENTICATED"));
                    });
            assertThatThrownBy(() -> io.grpc.health.v1.HealthGrpc.newBlockingStub(channel)
                                                                  .check(io.grpc.health.v1.HealthCheckRequest.getDefaultInstance()))
                    .isInstanceOfSatisfying(StatusRuntimeException.class,
                                            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
        } finally {
            SoniaChannels.close(channel);
        }
    }

    @Test
    void aValidTokenReachesTheServiceWithItsPrincipal() throws Exception {
        final String token = TestCredentials.token(config, "acme", "ann", Role.ROLE_USER);
        final JsonNode envelope = mapper.readTree(
                TestCredentials.webClient(base, token).get("/v1/memories/a").aggregate().join().contentUtf8());
        assertThat(envelope.get("data").get("name").asText()).isEqualTo("acme/ann||ROLE_USER");

        final ManagedChannel channel = SoniaChannels.forTarget("127.0.0.1:" + server.port(), Stack.MEMORY,
                                                               TestCredentials.bearer(token));
        try {
            assertThat(MemoryServiceGrpc.newBlockingStub(channel)
                                        .getMemory(GetMemoryRequest.newBuilder().setName("memories/a").build())
                                        .getName()).isEqualTo("acme/ann||ROLE_USER");
        } finally {
            SoniaChannels.close(channel);
        }
    }

    @Test
    void aServiceCredentialForwardsTheUserItActsFor() {
        final ManagedChannel channel = SoniaChannels.forService(config.withPorts(Map.of("memory", server.port())), Stack.GATEWAY,
                                                                Stack.MEMORY);
        try {
            final var stub = MemoryServiceGrpc.newBlockingStub(channel);
            final GetMemoryRequest request = GetMemoryRequest.newBuilder().setName("memories/a").build();
            assertThat(stub.getMemory(request).getName()).isEqualTo("service:gateway||ROLE_UNSPECIFIED");
            assertThat(stub.withOption(ServiceCredentialInterceptor.ACTING_FOR,
                                       Principal.user("acme", "bob", Role.ROLE_ADMIN))
                           .getMemory(request).getName()).isEqualTo("acme/bob|gateway|ROLE_ADMIN");
        } finally {
            SoniaChannels.close(channel);
        }
    }

    @Test
    void forgedExpiredMisdirectedAndUnsignedTokensAreRefused() {
        final byte[] key = Secrets.accessTokenKey(config);
        final byte[] otherKey = new byte[32];
        final Map<String, Object> claims = Map.of("tenant", "acme", "role", "admin", "kind", "user", "sid", "s1");
        final Set<String> required = Set.of("tenant", "role", "sid");
        final String valid = new Tokens(key, AccessTokens.TYPE, AccessTokens.AUDIENCE, required)
                .sign("ann", claims, Duration.ofMinutes(5));
        final String[] payloadOfValid = valid.split("\\.");

        final Map<String, String> bad = Map.of(
                "forged", new Tokens(otherKey, AccessTokens.TYPE, AccessTokens.AUDIENCE, required)
                        .sign("ann", claims, Duration.ofMinutes(5)),
                "expired", new Tokens(key, AccessTokens.TYPE, AccessTokens.AUDIENCE, required)
                        .sign("ann", claims, Duration.ofMinutes(-5)),
                "wrong audience", new Tokens(key, AccessTokens.TYPE, "somebody-else", required)
                        .sign("ann", claims, Duration.ofMinutes(5)),
                "wrong type", new Tokens(key, "JWT", AccessTokens.AUDIENCE, required)
                        .sign("ann", claims, Duration.ofMinutes(5)),
                "alg none", b64("{\"alg\":\"none\",\"typ\":\"at+jwt\"}") + '.' + payloadOfValid[1] + '.',
                "alg none, signature kept", b64("{\"alg\":\"none\",\"typ\":\"at+jwt\"}") + '.' + payloadOfValid[1]
                                           + '.' + payloadOfValid[2],
                "tampered claims", payloadOfValid[0] + '.' + b64("{\"sub\":\"ann\",\"tenant\":\"other\"}") + '.'
                                   + payloadOfValid[2],
                "service key as user", new Tokens(Secrets.serviceKey(config), AccessTokens.TYPE, AccessTokens.AUDIENCE,
                                                  required).sign("ann", claims, Duration.ofMinutes(5)),
                "garbage", "not-a-token",
                "api key", Authenticator.API_KEY_PREFIX + "abc_def");

        assertThat(TestCredentials.webClient(base, valid).get("/v1/memories/a").aggregate().join().status().code())
                .isEqualTo(200);
        bad.forEach((why, token) -> assertThat(
                TestCredentials.webClient(base, token).get("/v1/memories/a").aggregate().join().status().code())
                .as(why).isEqualTo(401));
    }

    @Test
    void aSessionLoggedOutAtTheGatewayIsRefusedHereWithinAMoment() throws Exception {
        final AccessTokens tokens = AccessTokens.of(config);
        final Principal ann = Principal.user("acme", "ann", Role.ROLE_USER);
        final String loggedOut = tokens.issue(ann, "session-1", Duration.ofMinutes(5));
        final String otherSession = tokens.issue(ann, "session-2", Duration.ofMinutes(5));
        final String exchangedKey = tokens.issue(ann, "key:k1:7", Duration.ofMinutes(5));
        assertThat(status(loggedOut)).isEqualTo(200);
        assertThat(status(exchangedKey)).isEqualTo(200);

        // What the gateway does at logout and when a key is deleted (another process, the same file).
        RevocationList.of(config).revoke("session-1", System.currentTimeMillis() + 300_000);
        RevocationList.of(config).revoke("key:k1", System.currentTimeMillis() + 300_000);
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5))
                                 .until(() -> status(loggedOut) == 401 && status(exchangedKey) == 401);
        assertThat(status(otherSession)).isEqualTo(200);
        assertThat(java.nio.file.Files.getPosixFilePermissions(Secrets.directory(config).resolve("revoked-sessions")))
                .containsExactlyInAnyOrder(java.nio.file.attribute.PosixFilePermission.OWNER_READ,
                                           java.nio.file.attribute.PosixFilePermission.OWNER_WRITE);
    }

    @Test
    void tokensDerivedFromAChangedUserAreRefusedOrNarrowedHereWithinAMoment() throws Exception {
        final AccessTokens tokens = AccessTokens.of(config);
        final String admin = tokens.issue(Principal.user("acme", "boss", Role.ROLE_ADMIN), "s-boss", Duration.ofMinutes(5));
        final String keyToken = tokens.issue(new Principal(Principal.Kind.API_KEY, "acme", "k-boss", Role.ROLE_ADMIN, ""),
                                             "boss", "key:k-boss:1", Duration.ofMinutes(5));
        final String gone = tokens.issue(Principal.user("acme", "gone", Role.ROLE_USER), "s-gone", Duration.ofMinutes(5));
        final String goneKey = tokens.issue(new Principal(Principal.Kind.API_KEY, "acme", "k-gone", Role.ROLE_USER, ""),
                                            "gone", "key:k-gone:1", Duration.ofMinutes(5));
        final String bystander = tokens.issue(Principal.user("acme", "ann", Role.ROLE_ADMIN), "s-ann", Duration.ofMinutes(5));
        for (String token : List.of(admin, keyToken, gone, goneKey, bystander)) {
            assertThat(status(token)).isEqualTo(200);
        }
        final RevocationList list = RevocationList.of(config);
        final long now = System.currentTimeMillis();
        list.changeUser("acme", "boss", Role.ROLE_USER, now, now + 300_000); // demoted
        list.changeUser("acme", "gone", null, now, now + 300_000);           // disabled or deleted
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5))
                                 .until(() -> status(admin) == 401 && status(keyToken) == 401
                                              && status(gone) == 401 && status(goneKey) == 401);
        assertThat(status(bystander)).isEqualTo(200);
        // A token issued after the demotion works, with the role it has now at most.
        Thread.sleep(2);
        final Authenticator authenticator = Authenticator.of(config);
        final String stale = tokens.issue(Principal.user("acme", "boss", Role.ROLE_ADMIN), "s-new", Duration.ofMinutes(5));
        assertThat(authenticator.authenticate(stale).role()).isEqualTo(Role.ROLE_USER);
        assertThat(status(stale)).isEqualTo(200);
        final String goneAgain = tokens.issue(Principal.user("acme", "gone", Role.ROLE_USER), "s-2", Duration.ofMinutes(5));
        assertThat(status(goneAgain)).isEqualTo(401);
        // Re-enabled: new tokens work again, the old ones stay dead.
        list.changeUser("acme", "gone", Role.ROLE_USER, System.currentTimeMillis(), System.currentTimeMillis() + 300_000);
        Thread.sleep(2);
        final String back = tokens.issue(Principal.user("acme", "gone", Role.ROLE_USER), "s-3", Duration.ofMinutes(5));
        assertThat(status(back)).isEqualTo(200);
        assertThat(status(gone)).isEqualTo(401);
    }

    @Test
    void aTokenVerifiedOnceIsKnownByItsExactTextOnly() {
        final Authenticator authenticator = Authenticator.of(config);
        final String token = TestCredentials.userToken(config, "acme", "ann");
        assertThat(authenticator.authenticate(token).subject()).isEqualTo("ann");
        assertThat(authenticator.authenticate(token).subject()).isEqualTo("ann"); // from the verified tokens
        final String forged = token.substring(0, token.length() - 2) + (token.endsWith("AA") ? "BB" : "AA");
        assertThatThrownBy(() -> authenticator.authenticate(forged)).isInstanceOf(AuthenticationException.class);
        final String knownHeaderOnly = token.substring(0, token.indexOf('.')) + ".garbage";
        assertThatThrownBy(() -> authenticator.authenticate(knownHeaderOnly)).hasMessage("malformed token");
        final String expired = AccessTokens.of(config).issue(Principal.user("acme", "ann", Role.ROLE_USER), "s-old",
                                                             Duration.ofMinutes(-5));
        assertThatThrownBy(() -> authenticator.authenticate(expired)).isInstanceOf(AuthenticationException.class);
        assertThatThrownBy(() -> authenticator.authenticate(expired)).isInstanceOf(AuthenticationException.class);
    }

    private static int status(String token) {
        return TestCredentials.webClient(base, token).get("/v1/memories/a").aggregate().join().status().code();
    }

    @Test
    void responsesCarryTheSecurityHeadersAndCorsFollowsTheConfig() {
        final AggregatedHttpResponse health = WebClient.of(base).get("/healthz").aggregate().join();
        assertThat(health.headers().get("x-content-type-options")).isEqualTo("nosniff");
        assertThat(health.headers().get("x-frame-options")).isEqualTo("DENY");
        assertThat(health.headers().get("content-security-policy")).contains("default-src 'none'");
        // /docs keeps its own page rules, and the other headers.
        final AggregatedHttpResponse docs = WebClient.of(base).get("/docs/").aggregate().join();
        assertThat(docs.headers().get("x-content-type-options")).isEqualTo("nosniff");
        assertThat(docs.headers().get("content-security-policy")).isNull();
        assertThat(docs.headers().get("x-frame-options")).isNull();

        final AggregatedHttpResponse allowed = preflight("https://app.example");
        assertThat(allowed.headers().get("access-control-allow-origin")).isEqualTo("https://app.example");
        assertThat(allowed.headers().get("access-control-allow-headers")).containsIgnoringCase("authorization");
        assertThat(preflight("https://evil.example").headers().get("access-control-allow-origin")).isNull();
    }

    private static AggregatedHttpResponse preflight(String origin) {
        return WebClient.of(base).execute(RequestHeaders.builder(HttpMethod.OPTIONS, "/v1/memories/a")
                                                        .add("origin", origin)
                                                        .add("access-control-request-method", "GET")
                                                        .add("access-control-request-headers", "authorization")
                                                        .build()).aggregate().join();
    }

    private static String b64(String json) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(json.getBytes());
    }
}
