package ai.sonia.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.RequestHeaders;
import com.linecorp.armeria.common.RequestHeadersBuilder;

import ai.sonia.common.v1.Role;
import ai.sonia.gateway.v1.ApiKeyServiceGrpc;
import ai.sonia.gateway.v1.AuditServiceGrpc;
import ai.sonia.gateway.v1.AuthServiceGrpc;
import ai.sonia.gateway.v1.CreateApiKeyRequest;
import ai.sonia.gateway.v1.GetUserRequest;
import ai.sonia.gateway.v1.ListAuditEventsRequest;
import ai.sonia.gateway.v1.ListUsersRequest;
import ai.sonia.gateway.v1.RegisterRequest;
import ai.sonia.gateway.v1.UserServiceGrpc;
import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.Stack;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.client.SoniaChannels;
import ai.sonia.runtime.testing.TestCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/** Accounts end to end: a real gateway, its real SQLite accounts store, REST and gRPC clients with real tokens. */
class AccountsTest {

    // What the code promises is that this happens, within about a second on an idle machine (a poll period, a
    // NOTIFY): that latency is a figure of the benchmarks. A loaded 2-core CI machine can hold a poll or a
    // listener back for longer, so the tests give it 10 s: they prove it happens, not how fast.
    private static final Duration PROMPTLY = Duration.ofSeconds(10);

    static final ObjectMapper mapper = new ObjectMapper();
    static final Map<String, String> NOWHERE = new HashMap<>();
    static {
        for (String service : List.of("ROUTER", "MEMORY", "PIPECAT", "OPENCLAW", "EVAOS")) {
            NOWHERE.put("SONIA_" + service + "_TARGET", "127.0.0.1:1"); // no downstream: accounts need none
        }
    }

    private final List<AutoCloseable> started = new ArrayList<>();
    private final List<String> secretsSeen = new ArrayList<>();
    private StackConfig config;
    private SoniaServer gateway;
    private String adminPassword;

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : started) {
            c.close();
        }
        assertNoSecretInLogs(secretsSeen);
    }

    private void start(String section, Map<String, String> env) {
        final Map<String, String> all = new HashMap<>(NOWHERE);
        all.putAll(env);
        config = GatewayHomes.gateway("accounts", section, all);
        gateway = new GatewayModule().newServer(config).start();
        started.add(gateway);
    }

    private void start() throws IOException {
        start("{}");
    }

    /** Starts with this {@code services.gateway} section and reads the first-start admin's password. */
    private void start(String section) throws IOException {
        start(section, Map.of());
        adminPassword = Files.readString(config.home().resolve("secrets/admin-password")).strip();
        secretsSeen.add(adminPassword);
    }

    @Test
    void theFirstStartCreatesAnAdminWhosePasswordIsInAnOwnerOnlyFile() throws Exception {
        start();
        final Path file = config.home().resolve("secrets/admin-password");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file.getParent()))).isEqualTo("rwx------");
        final JsonNode tokens = ok(login("admin", adminPassword));
        assertThat(tokens.at("/token_type").asText()).isEqualTo("Bearer");
        assertThat(tokens.at("/user/role").asText()).isEqualTo("ROLE_ADMIN");
        assertThat(tokens.at("/user/tenant").asText()).isEqualTo("default");
        final JsonNode me = ok(call(HttpMethod.GET, "/api/auth/me", null, access(tokens)));
        assertThat(me.at("/kind").asText()).isEqualTo("PRINCIPAL_KIND_USER");
        assertThat(me.at("/user/username").asText()).isEqualTo("admin");
        // A restart keeps the admin and writes no new file.
        gateway.close();
        started.remove(gateway);
        gateway = new GatewayModule().newServer(config).start();
        started.add(gateway);
        assertThat(Files.readString(file).strip()).isEqualTo(adminPassword);
        final String again = access(ok(login("admin", adminPassword)));
        // The generated password must be changed (what the console asks for), until the admin chooses one.
        assertThat(ok(call(HttpMethod.GET, "/api/auth/me", null, again)).at("/user/must_change_password").asBoolean())
                .isTrue();
        ok(call(HttpMethod.PUT, "/api/users/me/password", "{\"current_password\":\"" + adminPassword
                                                          + "\",\"new_password\":\"a password of my own\"}", again));
        assertThat(ok(call(HttpMethod.GET, "/api/users/me", null, again)).at("/must_change_password").asBoolean())
                .isFalse();
    }

    @Test
    void theAdminPasswordCanComeFromTheEnvironment() throws Exception {
        start("{}", Map.of("SONIA_ADMIN_PASSWORD", "correct horse battery staple"));
        secretsSeen.add("correct horse battery staple");
        assertThat(Files.exists(config.home().resolve("secrets/admin-password"))).isFalse();
        final JsonNode tokens = ok(login("admin", "correct horse battery staple"));
        assertThat(tokens.at("/user/must_change_password").asBoolean()).isFalse();
    }

    @Test
    void refreshRotatesAndAReusedRefreshTokenRevokesTheWholeSession() throws Exception {
        start();
        final String admin = access(ok(login("admin", adminPassword)));
        ok(register(admin, "alice", "alice-password-1"));
        final JsonNode first = ok(login("alice", "alice-password-1"));
        final JsonNode second = ok(call(HttpMethod.POST, "/api/auth/refresh",
                                        "{\"refresh_token\":\"" + refresh(first) + "\"}", null));
        assertThat(refresh(second)).isNotEqualTo(refresh(first));
        assertThat(status(HttpMethod.GET, "/api/auth/me", access(second))).isEqualTo(200);
        // The rotated token again: a replay. The session dies, with its newest tokens.
        final AggregatedHttpResponse replay = call(HttpMethod.POST, "/api/auth/refresh",
                                                   "{\"refresh_token\":\"" + refresh(first) + "\"}", null);
        assertThat(replay.status().code()).isEqualTo(401);
        assertThat(call(HttpMethod.POST, "/api/auth/refresh", "{\"refresh_token\":\"" + refresh(second) + "\"}", null)
                           .status().code()).isEqualTo(401);
        assertThat(status(HttpMethod.GET, "/api/auth/me", access(second))).isEqualTo(401);
        // Another login of the same user is another session: untouched.
        assertThat(status(HttpMethod.GET, "/api/auth/me", access(ok(login("alice", "alice-password-1"))))).isEqualTo(200);
    }

    @Test
    void logoutRevokesTheSessionsAccessAndRefreshTokens() throws Exception {
        start();
        final JsonNode tokens = ok(login("admin", adminPassword));
        final JsonNode other = ok(login("admin", adminPassword));
        assertThat(call(HttpMethod.POST, "/api/auth/logout", "{}", access(tokens)).status().code()).isEqualTo(200);
        assertThat(status(HttpMethod.GET, "/api/auth/me", access(tokens))).isEqualTo(401);
        assertThat(call(HttpMethod.POST, "/api/auth/refresh", "{\"refresh_token\":\"" + refresh(tokens) + "\"}", null)
                           .status().code()).isEqualTo(401);
        assertThat(status(HttpMethod.GET, "/api/auth/me", access(other))).isEqualTo(200);
        // Also after a restart: the revocation is on record.
        gateway.close();
        started.remove(gateway);
        gateway = new GatewayModule().newServer(config).start();
        started.add(gateway);
        assertThat(status(HttpMethod.GET, "/api/auth/me", access(tokens))).isEqualTo(401);
    }

    @Test
    void registrationChecksItsInputAndWhoAsks() throws Exception {
        start();
        final String admin = access(ok(login("admin", adminPassword)));
        final AggregatedHttpResponse shortPassword = register(admin, "bob", "short");
        assertThat(shortPassword.status().code()).isEqualTo(400);
        assertThat(envelope(shortPassword).at("/error/message").asText()).contains("at least 12 characters");
        assertThat(envelope(register(admin, "b b", "long-enough-password")).at("/error/details/field_violations/0/field")
                           .asText()).isEqualTo("username");
        ok(register(admin, "bob", "bob-password-12"));
        assertThat(envelope(register(admin, "BOB", "bob-password-12")).at("/error/code").asText()).isEqualTo("CONFLICT");
        // Registration mode "admin": no credential is 401, a user's is 403.
        assertThat(register(null, "carol", "carol-password-1").status().code()).isEqualTo(401);
        final String bob = access(ok(login("bob", "bob-password-12")));
        assertThat(register(bob, "carol", "carol-password-1").status().code()).isEqualTo(403);
        // Unknown fields are refused, never silently dropped (a tenant in the body is no way in).
        assertThat(call(HttpMethod.POST, "/api/auth/register",
                        "{\"username\":\"dave\",\"password\":\"dave-password-1\",\"tenant\":\"other\"}", admin)
                           .status().code()).isEqualTo(400);
    }

    @Test
    void openRegistrationGivesEachNewUserATenantOfItsOwn() throws Exception {
        start("{\"auth\":{\"registration\":\"open\",\"bcryptCost\":4}}", Map.of());
        final JsonNode erin = ok(register(null, "erin", "erin-password-1"));
        final JsonNode frank = ok(register(null, "frank", "frank-password-1"));
        assertThat(erin.at("/role").asText()).isEqualTo("ROLE_USER");
        assertThat(erin.at("/tenant").asText()).startsWith("t_").isNotEqualTo(frank.at("/tenant").asText());
        assertThat(call(HttpMethod.POST, "/api/auth/register",
                        "{\"username\":\"mallory\",\"password\":\"mallory-password\",\"role\":\"ROLE_ADMIN\"}", null)
                           .status().code()).isEqualTo(403);
    }

    @Test
    void openSignUpsFromOneAddressAreLimitedButAnAdminsRegistrationsAreNot() throws Exception {
        start("{\"auth\":{\"registration\":\"open\",\"bcryptCost\":4,\"registrationsPerHour\":2}}");
        ok(register(null, "erin", "erin-password-1"));
        ok(register(null, "frank", "frank-password-1"));
        // Each sign-up is a tenant of its own: one address does not make them without end.
        final AggregatedHttpResponse refused = register(null, "grace", "grace-password-1");
        assertThat(refused.status().code()).isEqualTo(429);
        assertThat(refused.contentUtf8()).contains("registrations_per_address");
        assertThat(Long.parseLong(refused.headers().get("retry-after"))).isBetween(1L, 3600L);
        final String admin = access(ok(login("admin", adminPassword)));
        ok(register(admin, "grace", "grace-password-1"));
    }

    @Test
    void adminEndpointsRefuseAUserAndHideOtherTenantsUsers() throws Exception {
        start();
        final String admin = access(ok(login("admin", adminPassword)));
        final String bobId = ok(register(admin, "bob", "bob-password-12")).at("/user_id").asText();
        final String bob = access(ok(login("bob", "bob-password-12")));
        for (String path : List.of("/api/users", "/api/users/" + bobId)) {
            assertThat(status(HttpMethod.GET, path, bob)).as(path).isEqualTo(403);
        }
        assertThat(call(HttpMethod.PUT, "/api/users/" + bobId, "{\"role\":\"ROLE_ADMIN\"}", bob).status().code())
                .isEqualTo(403);
        assertThat(status(HttpMethod.DELETE, "/api/users/" + bobId, bob)).isEqualTo(403);
        final ManagedChannel channel = SoniaChannels.forTarget("127.0.0.1:" + gateway.port(), Stack.GATEWAY,
                                                               TestCredentials.bearer(bob));
        started.add(() -> SoniaChannels.close(channel));
        assertThatThrownBy(() -> UserServiceGrpc.newBlockingStub(channel).listUsers(ListUsersRequest.getDefaultInstance()))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));

        // The admin of another tenant: bob does not exist for it, by REST and gRPC.
        final String otherAdmin = TestCredentials.token(config, "other", "olga", Role.ROLE_ADMIN);
        assertThat(status(HttpMethod.GET, "/api/users/" + bobId, otherAdmin)).isEqualTo(404);
        assertThat(call(HttpMethod.PUT, "/api/users/" + bobId, "{\"disabled\":true}", otherAdmin).status().code())
                .isEqualTo(404);
        assertThat(status(HttpMethod.DELETE, "/api/users/" + bobId, otherAdmin)).isEqualTo(404);
        assertThat(ok(call(HttpMethod.GET, "/api/users", null, otherAdmin)).at("/users").size()).isZero();
        final ManagedChannel other = SoniaChannels.forTarget("127.0.0.1:" + gateway.port(), Stack.GATEWAY,
                                                             TestCredentials.bearer(otherAdmin));
        started.add(() -> SoniaChannels.close(other));
        assertThatThrownBy(() -> UserServiceGrpc.newBlockingStub(other).getUser(
                GetUserRequest.newBuilder().setUserId(bobId).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));

        // The own tenant's admin sees and changes bob; a role change ends bob's sessions.
        assertThat(ok(call(HttpMethod.GET, "/api/users", null, admin)).at("/users").size()).isEqualTo(2);
        assertThat(ok(call(HttpMethod.PUT, "/api/users/" + bobId, "{\"role\":\"ROLE_ADMIN\"}", admin))
                           .at("/role").asText()).isEqualTo("ROLE_ADMIN");
        assertThat(status(HttpMethod.GET, "/api/auth/me", bob)).isEqualTo(401);
    }

    @Test
    void theLastAdminCanBeNeitherDemotedNorDeleted() throws Exception {
        start();
        final JsonNode login = ok(login("admin", adminPassword));
        final String admin = access(login);
        final String adminId = login.at("/user/user_id").asText();
        final AggregatedHttpResponse demote = call(HttpMethod.PUT, "/api/users/" + adminId, "{\"role\":\"ROLE_USER\"}", admin);
        assertThat(demote.status().code()).isEqualTo(409);
        assertThat(envelope(demote).at("/error/code").asText()).isEqualTo("CONFLICT");
        assertThat(status(HttpMethod.DELETE, "/api/users/" + adminId, admin)).isEqualTo(409);
        assertThat(call(HttpMethod.PUT, "/api/users/" + adminId, "{\"disabled\":true}", admin).status().code())
                .isEqualTo(409);
        assertThat(status(HttpMethod.GET, "/api/auth/me", admin)).isEqualTo(200);
    }

    @Test
    void usersChangeTheirProfileAndPasswordButNotTheirRole() throws Exception {
        start();
        final String admin = access(ok(login("admin", adminPassword)));
        ok(register(admin, "bob", "bob-password-12"));
        final String bob = access(ok(login("bob", "bob-password-12")));
        final String bobElsewhere = access(ok(login("bob", "bob-password-12")));
        assertThat(ok(call(HttpMethod.PUT, "/api/users/me", "{\"display_name\":\"Bob B.\"}", bob))
                           .at("/display_name").asText()).isEqualTo("Bob B.");
        assertThat(call(HttpMethod.PUT, "/api/users/me", "{\"display_name\":\"x\",\"role\":\"ROLE_ADMIN\"}", bob)
                           .status().code()).isEqualTo(400);
        assertThat(call(HttpMethod.PUT, "/api/users/me/password",
                        "{\"current_password\":\"wrong-password-1\",\"new_password\":\"bob-password-34\"}", bob)
                           .status().code()).isEqualTo(401);
        ok(call(HttpMethod.PUT, "/api/users/me/password",
                "{\"current_password\":\"bob-password-12\",\"new_password\":\"bob-password-34\"}", bob));
        assertThat(status(HttpMethod.GET, "/api/users/me", bob)).isEqualTo(200);
        assertThat(status(HttpMethod.GET, "/api/users/me", bobElsewhere)).isEqualTo(401);
        assertThat(login("bob", "bob-password-12").status().code()).isEqualTo(401);
        assertThat(login("bob", "bob-password-34").status().code()).isEqualTo(200);
    }

    @Test
    void apiKeysAreShownOnceUsedExchangedAndRevoked() throws Exception {
        start();
        final String admin = access(ok(login("admin", adminPassword)));
        ok(register(admin, "bob", "bob-password-12"));
        final String bob = access(ok(login("bob", "bob-password-12")));
        assertThat(call(HttpMethod.POST, "/api/keys", "{\"name\":\"too high\",\"role\":\"ROLE_ADMIN\"}", bob)
                           .status().code()).isEqualTo(403);
        final JsonNode created = ok(call(HttpMethod.POST, "/api/keys", "{\"name\":\"backup script\"}", bob));
        final String secret = created.at("/secret").asText();
        secretsSeen.add(secret);
        final String keyId = created.at("/key/key_id").asText();
        assertThat(secret).startsWith("sonia_sk_" + keyId + '_');
        assertThat(created.at("/key/role").asText()).isEqualTo("ROLE_USER");
        final JsonNode listed = ok(call(HttpMethod.GET, "/api/keys", null, bob));
        assertThat(listed.toString()).contains(keyId).doesNotContain(secret.substring(secret.lastIndexOf('_') + 1));

        final JsonNode me = ok(call(HttpMethod.GET, "/api/auth/me", null, secret));
        assertThat(me.at("/kind").asText()).isEqualTo("PRINCIPAL_KIND_API_KEY");
        assertThat(me.at("/subject").asText()).isEqualTo(keyId);
        // A key manages no accounts, and mints no keys.
        assertThat(call(HttpMethod.POST, "/api/keys", "{\"name\":\"more\"}", secret).status().code()).isEqualTo(403);
        // Exchanged for an access token that other services accept.
        final String exchanged = access(ok(call(HttpMethod.POST, "/api/auth/token", "{}", secret)));
        secretsSeen.add(exchanged);
        assertThat(ok(call(HttpMethod.GET, "/api/auth/me", null, exchanged)).at("/kind").asText()).isEqualTo("PRINCIPAL_KIND_API_KEY");
        assertThat(call(HttpMethod.POST, "/api/auth/token", "{}", bob).status().code()).isEqualTo(403);
        // A wrong secret for a real id is refused.
        assertThat(status(HttpMethod.GET, "/api/auth/me", "sonia_sk_" + keyId + "_wrong")).isEqualTo(401);
        // Another user's key is not found; an admin of the tenant may revoke it.
        final String otherUser = TestCredentials.userToken(config, "default", "someone-else");
        assertThat(status(HttpMethod.DELETE, "/api/keys/" + keyId, otherUser)).isEqualTo(404);
        assertThat(status(HttpMethod.DELETE, "/api/keys/" + keyId, admin)).isEqualTo(200);
        assertThat(status(HttpMethod.GET, "/api/auth/me", secret)).isEqualTo(401);
        assertThat(status(HttpMethod.GET, "/api/auth/me", exchanged)).isEqualTo(401);
        assertThat(status(HttpMethod.DELETE, "/api/keys/" + keyId, bob)).isEqualTo(404);

        // The same over gRPC.
        final ManagedChannel channel = SoniaChannels.forTarget("127.0.0.1:" + gateway.port(), Stack.GATEWAY,
                                                               TestCredentials.bearer(bob));
        started.add(() -> SoniaChannels.close(channel));
        final String grpcSecret = ApiKeyServiceGrpc.newBlockingStub(channel)
                                                   .createApiKey(CreateApiKeyRequest.newBuilder().setName("grpc").build())
                                                   .getSecret();
        secretsSeen.add(grpcSecret);
        assertThat(status(HttpMethod.GET, "/api/users/me", grpcSecret)).isEqualTo(403);
        assertThat(status(HttpMethod.GET, "/api/limitations", grpcSecret)).isEqualTo(200);
    }

    @Test
    void loginsFromOneAddressAreLimitedEvenWhenTheySucceed() throws Exception {
        start("{\"auth\":{\"loginThrottle\":{\"loginsPerMinute\":3}}}");
        String admin = null;
        for (int i = 0; i < 3; i++) {
            admin = access(ok(login("admin", adminPassword)));
        }
        // Each login is a password check (CPU spent by design): a valid account cannot spend them without end.
        final AggregatedHttpResponse refused = login("admin", adminPassword);
        assertThat(refused.status().code()).isEqualTo(429);
        assertThat(refused.contentUtf8()).contains("logins_per_address");
        assertThat(Long.parseLong(refused.headers().get("retry-after"))).isBetween(1L, 60L);
        // What the sessions already logged in do is not limited by it.
        assertThat(status(HttpMethod.GET, "/api/auth/me", admin)).isEqualTo(200);
    }

    @Test
    void oneUserHoldsAtMostItsLimitOfLiveApiKeysAndRevokingMakesRoom() throws Exception {
        start("{\"auth\":{\"maxApiKeysPerUser\":2}}");
        final String admin = access(ok(login("admin", adminPassword)));
        ok(register(admin, "bob", "bob-password-12"));
        final String bob = access(ok(login("bob", "bob-password-12")));
        final List<String> ids = new ArrayList<>();
        for (String name : List.of("one", "two")) {
            final JsonNode created = ok(call(HttpMethod.POST, "/api/keys", "{\"name\":\"" + name + "\"}", bob));
            secretsSeen.add(created.at("/secret").asText());
            ids.add(created.at("/key/key_id").asText());
        }
        final AggregatedHttpResponse refused = call(HttpMethod.POST, "/api/keys", "{\"name\":\"three\"}", bob);
        assertThat(refused.status().code()).isEqualTo(429);
        assertThat(refused.contentUtf8()).contains("RATE_LIMITED").contains("api_keys_per_user");
        // Another user of the tenant is not held back; a revoked key frees its place.
        secretsSeen.add(ok(call(HttpMethod.POST, "/api/keys", "{\"name\":\"admin's\"}", admin)).at("/secret").asText());
        assertThat(status(HttpMethod.DELETE, "/api/keys/" + ids.get(0), bob)).isEqualTo(200);
        secretsSeen.add(ok(call(HttpMethod.POST, "/api/keys", "{\"name\":\"three\"}", bob)).at("/secret").asText());
    }

    @Test
    void tokensDerivedFromAUserOrKeyStopWhenTheOwnerIsDemotedDisabledOrDeletedOrTheKeyIsDeleted() throws Exception {
        start();
        final String admin = access(ok(login("admin", adminPassword)));
        final String bossId = ok(register(admin, "boss", "boss-password-12", "ROLE_ADMIN")).at("/user_id").asText();
        final String boss = access(ok(login("boss", "boss-password-12")));
        final String bossKey = secret(ok(call(HttpMethod.POST, "/api/keys", "{\"name\":\"ops\"}", boss)));
        final String bossKeyToken = access(ok(call(HttpMethod.POST, "/api/auth/token", "{}", bossKey)));
        assertThat(status(HttpMethod.GET, "/api/users", boss)).isEqualTo(200);
        assertThat(ok(call(HttpMethod.GET, "/api/auth/me", null, bossKeyToken)).at("/role").asText())
                .isEqualTo("ROLE_ADMIN");

        // Demoted: every token derived from boss stops at once; fresh ones act as a plain user.
        ok(call(HttpMethod.PUT, "/api/users/" + bossId, "{\"role\":\"ROLE_USER\"}", admin));
        await().atMost(PROMPTLY).until(() -> status(HttpMethod.GET, "/api/auth/me", boss) == 401
                                                          && status(HttpMethod.GET, "/api/auth/me", bossKeyToken) == 401);
        final String demoted = access(ok(login("boss", "boss-password-12")));
        assertThat(status(HttpMethod.GET, "/api/users", demoted)).isEqualTo(403);
        final String narrowed = access(ok(call(HttpMethod.POST, "/api/auth/token", "{}", bossKey)));
        assertThat(ok(call(HttpMethod.GET, "/api/auth/me", null, narrowed)).at("/role").asText()).isEqualTo("ROLE_USER");
        final ManagedChannel channel = SoniaChannels.forTarget("127.0.0.1:" + gateway.port(), Stack.GATEWAY,
                                                               TestCredentials.bearer(bossKeyToken));
        started.add(() -> SoniaChannels.close(channel));
        assertThatThrownBy(() -> UserServiceGrpc.newBlockingStub(channel).listUsers(ListUsersRequest.getDefaultInstance()))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));

        // The key deleted: its exchanged tokens stop.
        final String keyId = ok(call(HttpMethod.GET, "/api/keys", null, demoted)).at("/keys/0/key_id").asText();
        assertThat(status(HttpMethod.DELETE, "/api/keys/" + keyId, demoted)).isEqualTo(200);
        await().atMost(PROMPTLY).until(() -> status(HttpMethod.GET, "/api/auth/me", narrowed) == 401);

        // Disabled, then deleted: nothing derived from the user works, whatever its age.
        final String key2 = secret(ok(call(HttpMethod.POST, "/api/keys", "{\"name\":\"two\"}", demoted)));
        final String key2Token = access(ok(call(HttpMethod.POST, "/api/auth/token", "{}", key2)));
        ok(call(HttpMethod.PUT, "/api/users/" + bossId, "{\"disabled\":true}", admin));
        await().atMost(PROMPTLY).until(() -> status(HttpMethod.GET, "/api/auth/me", demoted) == 401
                                                          && status(HttpMethod.GET, "/api/auth/me", key2Token) == 401
                                                          && status(HttpMethod.GET, "/api/auth/me", key2) == 401);
        ok(call(HttpMethod.PUT, "/api/users/" + bossId, "{\"disabled\":false}", admin));
        final String back = access(ok(login("boss", "boss-password-12")));
        final String backKeyToken = access(ok(call(HttpMethod.POST, "/api/auth/token", "{}", key2)));
        assertThat(status(HttpMethod.GET, "/api/auth/me", back)).isEqualTo(200);
        assertThat(status(HttpMethod.GET, "/api/auth/me", key2Token)).isEqualTo(401);
        assertThat(status(HttpMethod.DELETE, "/api/users/" + bossId, admin)).isEqualTo(200);
        await().atMost(PROMPTLY).until(() -> status(HttpMethod.GET, "/api/auth/me", back) == 401
                                                          && status(HttpMethod.GET, "/api/auth/me", backKeyToken) == 401);
    }

    @Test
    void securityEventsAreAuditedPerTenantForAdminsOnly() throws Exception {
        start("{\"auth\":{\"registration\":\"open\",\"bcryptCost\":4}}",
              Map.of("SONIA_ADMIN_PASSWORD", "admin-password-123"));
        final JsonNode adminLogin = ok(login("admin", "admin-password-123"));
        final String admin = access(adminLogin);
        final String bobId = ok(register(admin, "bob", "bob-password-12")).at("/user_id").asText();
        assertThat(login("bob", "not-bobs-password").status().code()).isEqualTo(401);
        final JsonNode bobLogin = ok(login("bob", "bob-password-12"));
        final JsonNode refreshed = ok(call(HttpMethod.POST, "/api/auth/refresh",
                                           "{\"refresh_token\":\"" + refresh(bobLogin) + "\"}", null));
        assertThat(call(HttpMethod.POST, "/api/auth/refresh", "{\"refresh_token\":\"" + refresh(bobLogin) + "\"}",
                        null).status().code()).isEqualTo(401);
        final String bob = access(ok(login("bob", "bob-password-12")));
        final String keyId = ok(call(HttpMethod.POST, "/api/keys", "{\"name\":\"backup\"}", bob)).at("/key/key_id").asText();
        assertThat(status(HttpMethod.DELETE, "/api/keys/" + keyId, bob)).isEqualTo(200);
        assertThat(call(HttpMethod.POST, "/api/auth/logout", "{}", bob).status().code()).isEqualTo(200);
        ok(call(HttpMethod.PUT, "/api/users/" + bobId, "{\"role\":\"ROLE_ADMIN\"}", admin));
        ok(call(HttpMethod.PUT, "/api/users/" + bobId, "{\"disabled\":true}", admin));
        assertThat(status(HttpMethod.DELETE, "/api/users/" + bobId, admin)).isEqualTo(200);
        // Another tenant's events (a self-registered user) are not the default tenant's.
        ok(register(null, "erin", "erin-password-1"));
        final String erin = access(ok(login("erin", "erin-password-1")));
        access(refreshed);

        final JsonNode events = ok(call(HttpMethod.GET, "/api/audit", null, admin)).at("/events");
        final List<String> kinds = new ArrayList<>();
        events.forEach(e -> kinds.add(e.at("/kind").asText().replace("AUDIT_EVENT_KIND_", "")
                                      + (e.at("/success").asBoolean() ? "" : "!")));
        assertThat(kinds).containsExactly("USER_DELETE", "USER_DISABLE", "ROLE_CHANGE", "LOGOUT", "API_KEY_DELETE",
                                          "API_KEY_CREATE", "LOGIN", "REFRESH_TOKEN_REUSE!", "TOKEN_REFRESH", "LOGIN",
                                          "LOGIN!", "USER_REGISTER", "LOGIN");
        final JsonNode failed = events.get(10);
        assertThat(failed.at("/username").asText()).isEqualTo("bob");
        assertThat(failed.at("/address").asText()).isEqualTo("127.0.0.1");
        assertThat(failed.at("/detail").asText()).isEqualTo("wrong password");
        assertThat(events.get(2).at("/detail").asText()).isEqualTo("ROLE_USER -> ROLE_ADMIN");
        assertThat(events.get(0).at("/actor").asText()).isEqualTo("default/" + adminLogin.at("/user/user_id").asText());
        assertThat(events.toString()).doesNotContain("erin").doesNotContain("not-bobs-password");

        // Paged, newest first.
        final JsonNode first = ok(call(HttpMethod.GET, "/api/audit?page_size=5", null, admin));
        assertThat(first.at("/events").size()).isEqualTo(5);
        final JsonNode second = ok(call(HttpMethod.GET, "/api/audit?page_size=5&page_token="
                                                        + first.at("/next_page_token").asText(), null, admin));
        assertThat(second.at("/events/0/event_id").asLong()).isLessThan(first.at("/events/4/event_id").asLong());
        assertThat(status(HttpMethod.GET, "/api/audit?page_size=5000", admin)).isEqualTo(400);
        assertThat(status(HttpMethod.GET, "/api/audit?page_token=zzz", admin)).isEqualTo(400);

        // A plain user, self-registered or not, may not read it: REST and gRPC.
        assertThat(status(HttpMethod.GET, "/api/audit", erin)).isEqualTo(403);
        final ManagedChannel channel = SoniaChannels.forTarget("127.0.0.1:" + gateway.port(), Stack.GATEWAY,
                                                               TestCredentials.bearer(erin));
        started.add(() -> SoniaChannels.close(channel));
        assertThatThrownBy(() -> AuditServiceGrpc.newBlockingStub(channel)
                                                 .listAuditEvents(ListAuditEventsRequest.getDefaultInstance()))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
        final ManagedChannel adminChannel = SoniaChannels.forTarget("127.0.0.1:" + gateway.port(), Stack.GATEWAY,
                                                                    TestCredentials.bearer(admin));
        started.add(() -> SoniaChannels.close(adminChannel));
        assertThat(AuditServiceGrpc.newBlockingStub(adminChannel)
                                   .listAuditEvents(ListAuditEventsRequest.newBuilder().setPageSize(1).build())
                                   .getEvents(0).getKindValue()).isEqualTo(11);
        // Append-only: the table refuses changes.
        try (java.sql.Connection db = java.sql.DriverManager.getConnection(
                "jdbc:sqlite:" + config.dataDir("gateway").resolve("accounts.db"))) {
            assertThatThrownBy(() -> db.createStatement().execute("DELETE FROM audit_events"))
                    .hasMessageContaining("append-only");
            assertThatThrownBy(() -> db.createStatement().execute("UPDATE audit_events SET success = 1"))
                    .hasMessageContaining("append-only");
        }
    }

    @Test
    void listsPageWithoutSkipOrRepeatUnderInsertsAndTheirTokensAreBoundToTheirList() throws Exception {
        start("{\"auth\":{\"bcryptCost\":4}}", Map.of("SONIA_ADMIN_PASSWORD", "admin-password-123"));
        final String admin = access(ok(login("admin", "admin-password-123")));
        for (String name : List.of("bob", "dan", "fay")) {
            ok(register(admin, name, name + "-password-12"));
        }
        // Users by name: admin, bob | (carl added now), dan, (eve added now), fay; abe, added before the cursor,
        // waits for the next walk.
        final JsonNode first = ok(call(HttpMethod.GET, "/api/users?page_size=2", null, admin));
        final List<String> seen = new ArrayList<>();
        first.at("/users").forEach(u -> seen.add(u.at("/username").asText()));
        ok(register(admin, "abe", "abe-password-12"));
        ok(register(admin, "carl", "carl-password-12"));
        ok(register(admin, "eve", "eve-password-12"));
        String token = first.at("/next_page_token").asText();
        while (!token.isEmpty()) {
            final JsonNode page = ok(call(HttpMethod.GET, "/api/users?page_size=2&page_token=" + token, null, admin));
            page.at("/users").forEach(u -> seen.add(u.at("/username").asText()));
            token = page.at("/next_page_token").asText();
        }
        assertThat(seen).containsExactly("admin", "bob", "carl", "dan", "eve", "fay");

        // Keys newest first: a key made between pages is newer than the cursor, so it is neither seen nor repeated.
        final List<String> made = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            made.add(0, ok(call(HttpMethod.POST, "/api/keys", "{\"name\":\"k" + i + "\"}", admin)).at("/key/key_id").asText());
        }
        final JsonNode keys1 = ok(call(HttpMethod.GET, "/api/keys?page_size=2", null, admin));
        ok(call(HttpMethod.POST, "/api/keys", "{\"name\":\"later\"}", admin));
        final String keysToken = keys1.at("/next_page_token").asText();
        final JsonNode keys2 = ok(call(HttpMethod.GET, "/api/keys?page_size=2&page_token=" + keysToken, null, admin));
        final List<String> keyIds = new ArrayList<>();
        keys1.at("/keys").forEach(k -> keyIds.add(k.at("/key_id").asText()));
        keys2.at("/keys").forEach(k -> keyIds.add(k.at("/key_id").asText()));
        assertThat(keyIds).containsExactlyElementsOf(made);
        assertThat(keys2.at("/next_page_token").asText()).isEmpty();

        // A token of one list (or of another caller's filter) is INVALID_ARGUMENT on page_token elsewhere.
        final AggregatedHttpResponse crossed = call(HttpMethod.GET, "/api/audit?page_token=" + keysToken, null, admin);
        assertThat(crossed.status().code()).isEqualTo(400);
        assertThat(envelope(crossed).toString()).contains("page_token");
        assertThat(status(HttpMethod.GET, "/api/users?page_token=" + keysToken, admin)).isEqualTo(400);
        final String bob = access(ok(login("bob", "bob-password-12")));
        assertThat(status(HttpMethod.GET, "/api/keys?page_token=" + keysToken, bob)).isEqualTo(400);
        assertThat(status(HttpMethod.GET, "/api/keys?page_size=1001", admin)).isEqualTo(400);
    }

    @Test
    void aRetriedCreateWithItsRequestIdMakesNothingNewAndAnUpdateMaskLimitsAnUpdate() throws Exception {
        start("{\"auth\":{\"bcryptCost\":4}}", Map.of("SONIA_ADMIN_PASSWORD", "admin-password-123"));
        final String admin = access(ok(login("admin", "admin-password-123")));
        final String body = "{\"username\":\"gus\",\"password\":\"gus-password-12\",\"request_id\":\"r-1\"}";
        final JsonNode first = ok(call(HttpMethod.POST, "/api/auth/register", body, admin));
        final JsonNode again = ok(call(HttpMethod.POST, "/api/auth/register", body, admin));
        assertThat(again.at("/user_id").asText()).isEqualTo(first.at("/user_id").asText());
        // Without a request id, the same create is a conflict: CONFLICT over REST, ALREADY_EXISTS over gRPC.
        assertThat(envelope(register(admin, "gus", "gus-password-12")).at("/error/code").asText()).isEqualTo("CONFLICT");
        final ManagedChannel channel = SoniaChannels.forTarget("127.0.0.1:" + gateway.port(), Stack.GATEWAY,
                                                               TestCredentials.bearer(admin));
        started.add(() -> SoniaChannels.close(channel));
        assertThatThrownBy(() -> AuthServiceGrpc.newBlockingStub(channel).register(
                RegisterRequest.newBuilder().setUsername("GUS").setPassword("gus-password-12").build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.ALREADY_EXISTS));

        final String keyBody = "{\"name\":\"ci\",\"request_id\":\"k-1\"}";
        final JsonNode key = ok(call(HttpMethod.POST, "/api/keys", keyBody, admin));
        final JsonNode retried = ok(call(HttpMethod.POST, "/api/keys", keyBody, admin));
        assertThat(retried.at("/key/key_id").asText()).isEqualTo(key.at("/key/key_id").asText());
        assertThat(ok(call(HttpMethod.GET, "/api/keys", null, admin)).at("/keys").size()).isEqualTo(1);
        // Secrets are never stored: the retry's secret replaces the first one.
        assertThat(status(HttpMethod.GET, "/api/auth/me", secret(retried))).isEqualTo(200);
        assertThat(status(HttpMethod.GET, "/api/auth/me", secret(key))).isEqualTo(401);
        // Another request id makes another key.
        ok(call(HttpMethod.POST, "/api/keys", "{\"name\":\"ci\",\"request_id\":\"k-2\"}", admin));
        assertThat(ok(call(HttpMethod.GET, "/api/keys", null, admin)).at("/keys").size()).isEqualTo(2);

        // An update_mask names what changes: the display name is set but not in the mask, so it stays.
        final String gus = first.at("/user_id").asText();
        final JsonNode masked = ok(call(HttpMethod.PUT, "/api/users/" + gus,
                                        "{\"display_name\":\"Gus\",\"disabled\":true,\"update_mask\":\"disabled\"}", admin));
        assertThat(masked.at("/disabled").asBoolean()).isTrue();
        assertThat(masked.at("/display_name").asText()).isEqualTo("gus");
        final AggregatedHttpResponse badMask = call(HttpMethod.PUT, "/api/users/" + gus,
                                                    "{\"update_mask\":\"username\"}", admin);
        assertThat(badMask.status().code()).isEqualTo(400);
        assertThat(envelope(badMask).toString()).contains("update_mask");
    }

    @Test
    void oneAddressGuessingManyNamesIsSlowedToo() throws Exception {
        start("{\"auth\":{\"bcryptCost\":4,\"loginThrottle\":{\"maxFailures\":2,\"windowSeconds\":60,"
              + "\"lockSeconds\":30,\"maxLockSeconds\":60}}}", Map.of("SONIA_ADMIN_PASSWORD", "admin-password-123"));
        // Two guesses per name stay under the (name, address) limit; the address's own limit is four times that.
        int refused = 0;
        for (int i = 0; i < 12; i++) {
            if (loginFrom("127.0.0.3", "name" + i / 2, "guess-" + i) == 429) {
                refused++;
            }
        }
        assertThat(refused).isGreaterThan(0);
        assertThat(loginFrom("127.0.0.3", "admin", "admin-password-123")).isEqualTo(429);
        assertThat(login("admin", "admin-password-123").status().code()).isEqualTo(200);
    }

    @Test
    void bruteForceLoginIsThrottledWithRetryAfterAndRecovers() throws Exception {
        start("{\"auth\":{\"bcryptCost\":4,\"loginThrottle\":{\"maxFailures\":5,\"windowSeconds\":60,"
              + "\"lockSeconds\":1,\"maxLockSeconds\":2}}}", Map.of("SONIA_ADMIN_PASSWORD", "admin-password-123"));
        for (int i = 0; i < 5; i++) {
            assertThat(login("admin", "guess-number-" + i).status().code()).isEqualTo(401);
        }
        final AggregatedHttpResponse refused = login("admin", "admin-password-123");
        assertThat(refused.status().code()).isEqualTo(429);
        assertThat(envelope(refused).at("/error/code").asText()).isEqualTo("RATE_LIMITED");
        assertThat(refused.headers().get("retry-after")).isEqualTo("1");
        // The real admin, from another address, is not locked out by the guesser.
        assertThat(loginFrom("127.0.0.2", "admin", "admin-password-123")).isEqualTo(200);
        assertThat(loginFrom("127.0.0.2", "admin", "one-wrong-guess")).isEqualTo(401);
        // An unknown user is answered like a wrong password, and counts against the address.
        assertThat(login("nobody-here", "whatever-password").status().code()).isIn(401, 429);
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200))
               .until(() -> login("admin", "admin-password-123").status().code() == 200);
    }

    // Helpers

    private AggregatedHttpResponse login(String username, String password) {
        return call(HttpMethod.POST, "/api/auth/login",
                    "{\"username\":\"" + username + "\",\"password\":\"" + password + "\"}", null);
    }

    /** A login sent from another loopback address (a socket bound to it), as another client would; its status. */
    private int loginFrom(String address, String username, String password) throws IOException {
        final String body = "{\"username\":\"" + username + "\",\"password\":\"" + password + "\"}";
        try (java.net.Socket socket = new java.net.Socket()) {
            socket.bind(new java.net.InetSocketAddress(address, 0));
            socket.connect(new java.net.InetSocketAddress("127.0.0.1", gateway.port()), 5000);
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(("POST /api/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                            + "Content-Type: application/json\r\nConnection: close\r\n"
                                            + "Content-Length: " + body.length() + "\r\n\r\n" + body)
                                                   .getBytes(java.nio.charset.StandardCharsets.UTF_8));
            final String status = new java.io.BufferedReader(new java.io.InputStreamReader(
                    socket.getInputStream(), java.nio.charset.StandardCharsets.UTF_8)).readLine();
            return Integer.parseInt(status.split(" ")[1]);
        }
    }

    private AggregatedHttpResponse register(String token, String username, String password) {
        return call(HttpMethod.POST, "/api/auth/register",
                    "{\"username\":\"" + username + "\",\"password\":\"" + password + "\"}", token);
    }

    private AggregatedHttpResponse register(String token, String username, String password, String role) {
        return call(HttpMethod.POST, "/api/auth/register", "{\"username\":\"" + username + "\",\"password\":\""
                                                           + password + "\",\"role\":\"" + role + "\"}", token);
    }

    private String secret(JsonNode created) {
        final String secret = created.at("/secret").asText();
        secretsSeen.add(secret);
        return secret;
    }

    private int status(HttpMethod method, String path, String token) {
        return call(method, path, null, token).status().code();
    }

    AggregatedHttpResponse call(HttpMethod method, String path, String json, String token) {
        final RequestHeadersBuilder headers = RequestHeaders.builder(method, path);
        if (json != null) {
            headers.contentType(MediaType.JSON_UTF_8);
        }
        if (token != null) {
            headers.add("authorization", "Bearer " + token);
        }
        final WebClient client = WebClient.of("http://127.0.0.1:" + gateway.port());
        return (json == null ? client.execute(headers.build()) : client.execute(headers.build(), json))
                .aggregate().join();
    }

    private JsonNode ok(AggregatedHttpResponse response) throws IOException {
        assertThat(response.status().code()).as(response.contentUtf8()).isEqualTo(200);
        return envelope(response).get("data");
    }

    private static JsonNode envelope(AggregatedHttpResponse response) throws IOException {
        return mapper.readTree(response.contentUtf8());
    }

    private String access(JsonNode tokens) {
        final String token = tokens.at("/access_token").asText();
        secretsSeen.add(token);
        return token;
    }

    private String refresh(JsonNode tokens) {
        final String token = tokens.at("/refresh_token").asText();
        secretsSeen.add(token);
        return token;
    }

    /** No token, refresh token, API key or password reaches a log file. */
    static void assertNoSecretInLogs(List<String> secrets) throws IOException {
        final String dir = System.getenv("SONIA_LOG_DIR") != null ? System.getenv("SONIA_LOG_DIR")
                           : Path.of(System.getenv().getOrDefault("SONIA_HOME", "."), "logs").toString();
        final Path logs = Path.of(dir);
        if (!Files.isDirectory(logs)) {
            return;
        }
        try (Stream<Path> files = Files.list(logs)) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                final String text = Files.readString(file);
                for (String secret : secrets) {
                    assertThat(text).as(file.toString()).doesNotContain(secret);
                }
            }
        }
    }
}
