package ai.sonia.gateway.console;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.Cookie;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.RequestHeaders;
import com.linecorp.armeria.common.RequestHeadersBuilder;

import ai.sonia.gateway.ConsoleStacks;
import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.StackConfig;

/** The console's session cookie over real HTTP against a real gateway: flags, CSRF, refresh, sign-out. */
class ConsoleSessionsTest {

    static final ObjectMapper mapper = new ObjectMapper();
    static StackConfig config;
    static SoniaServer gateway;
    static String adminPassword;

    @BeforeAll
    static void start() throws Exception {
        config = ConsoleStacks.gatewayHome("console-sessions", ConsoleStacks.NOWHERE);
        gateway = ConsoleStacks.gateway(config);
        adminPassword = Files.readString(config.home().resolve("secrets/admin-password")).strip();
    }

    @AfterAll
    static void stop() {
        gateway.close();
    }

    @Test
    void signInSetsStrictHttpOnlyCookiesAndKeepsTheTokensOutOfTheBody() throws Exception {
        final AggregatedHttpResponse login = login("admin", adminPassword);
        assertThat(login.status().code()).as(login.contentUtf8()).isEqualTo(200);
        final Map<String, Cookie> cookies = cookies(login);
        final Cookie session = cookies.get(ConsoleSessions.SESSION);
        assertThat(session.isHttpOnly()).isTrue();
        assertThat(session.sameSite()).isEqualTo("Strict");
        assertThat(session.path()).isEqualTo("/");
        assertThat(session.isSecure()).isFalse(); // plain HTTP here; Secure under TLS
        assertThat(session.maxAge()).isPositive();
        assertThat(cookies.get(ConsoleSessions.REFRESH).isHttpOnly()).isTrue();
        assertThat(cookies.get(ConsoleSessions.REFRESH).path()).isEqualTo("/api/auth/refresh");
        assertThat(cookies.get(ConsoleSessions.CSRF).isHttpOnly()).isFalse(); // the page's script reads it
        assertThat(cookies.get(ConsoleSessions.CSRF).sameSite()).isEqualTo("Strict");
        final JsonNode data = mapper.readTree(login.contentUtf8()).path("data");
        assertThat(data.has("access_token")).isFalse();
        assertThat(data.has("refresh_token")).isFalse();
        assertThat(data.at("/user/username").asText()).isEqualTo("admin");
        assertThat(login.contentUtf8()).doesNotContain(session.value());
    }

    @Test
    void underTlsTheCookiesAreSecure() throws Exception {
        final Map<String, String> env = new HashMap<>(ai.sonia.gateway.ConsoleStacks.NOWHERE);
        env.put("SONIA_TLS", "true");
        final StackConfig tlsConfig = ConsoleStacks.gatewayHome("console-sessions-tls", env);
        try (SoniaServer tls = ConsoleStacks.gateway(tlsConfig)) {
            final String password = Files.readString(tlsConfig.home().resolve("secrets/admin-password")).strip();
            final WebClient client = WebClient.builder("https://127.0.0.1:" + tls.port())
                                              .factory(com.linecorp.armeria.client.ClientFactory.insecure()).build();
            final AggregatedHttpResponse login = client.execute(
                    RequestHeaders.builder(HttpMethod.POST, "/api/auth/login").contentType(MediaType.JSON_UTF_8)
                                  .add(ConsoleSessions.MODE_HEADER, "cookie").build(),
                    "{\"username\":\"admin\",\"password\":\"" + password + "\"}").aggregate().join();
            assertThat(login.status().code()).as(login.contentUtf8()).isEqualTo(200);
            final Map<String, Cookie> cookies = cookies(login);
            assertThat(cookies.values()).extracting(Cookie::name)
                                        .containsExactlyInAnyOrder(ConsoleSessions.SESSION, ConsoleSessions.REFRESH,
                                                                   ConsoleSessions.CSRF);
            assertThat(cookies.values()).allMatch(Cookie::isSecure);
        }
    }

    @Test
    void theCookieAuthenticatesReadsAndStateChangesNeedTheCsrfHeader() throws Exception {
        final Map<String, Cookie> cookies = cookies(login("admin", adminPassword));
        final String jar = jar(cookies, ConsoleSessions.SESSION, ConsoleSessions.CSRF);
        final AggregatedHttpResponse me = call(HttpMethod.GET, "/api/auth/me", null, Map.of("cookie", jar));
        assertThat(me.status().code()).isEqualTo(200);
        assertThat(mapper.readTree(me.contentUtf8()).at("/data/user/username").asText()).isEqualTo("admin");
        // /docs opens in the same browser session.
        assertThat(call(HttpMethod.GET, "/docs/", null, Map.of("cookie", jar)).status().code()).isEqualTo(200);
        assertThat(call(HttpMethod.GET, "/docs/", null, Map.of()).status().code()).isEqualTo(401);

        final String body = "{\"username\":\"carol\",\"password\":\"carol-password-1\"}";
        final AggregatedHttpResponse forged = call(HttpMethod.POST, "/api/auth/register", body, Map.of("cookie", jar));
        assertThat(forged.status().code()).isEqualTo(403);
        final JsonNode refused = mapper.readTree(forged.contentUtf8());
        assertThat(refused.path("ok").asBoolean()).isFalse();
        assertThat(refused.at("/error/code").asText()).isEqualTo("PERMISSION_DENIED");
        assertThat(call(HttpMethod.POST, "/api/auth/register", body,
                        Map.of("cookie", jar, ConsoleSessions.CSRF_HEADER, "not-the-cookie")).status().code())
                .isEqualTo(403);
        final AggregatedHttpResponse created = call(HttpMethod.POST, "/api/auth/register", body,
                Map.of("cookie", jar, ConsoleSessions.CSRF_HEADER, cookies.get(ConsoleSessions.CSRF).value()));
        assertThat(created.status().code()).as(created.contentUtf8()).isEqualTo(200);
        // The header credential still works, with no CSRF header (a program, not a browser).
        final String bearer = mapper.readTree(call(HttpMethod.POST, "/api/auth/login",
                "{\"username\":\"carol\",\"password\":\"carol-password-1\"}", Map.of()).contentUtf8())
                                    .at("/data/access_token").asText();
        assertThat(call(HttpMethod.PUT, "/api/users/me", "{\"display_name\":\"Carol\"}",
                        Map.of("authorization", "Bearer " + bearer)).status().code()).isEqualTo(200);
    }

    @Test
    void refreshRotatesTheCookiesAndSignOutRevokesTheSession() throws Exception {
        final Map<String, Cookie> first = cookies(login("admin", adminPassword));
        final String csrf = first.get(ConsoleSessions.CSRF).value();
        assertThat(call(HttpMethod.POST, "/api/auth/refresh", "{}",
                        Map.of("cookie", jar(first, ConsoleSessions.REFRESH, ConsoleSessions.CSRF))).status().code())
                .isEqualTo(403);
        final AggregatedHttpResponse refreshed = call(HttpMethod.POST, "/api/auth/refresh", "{}",
                Map.of("cookie", jar(first, ConsoleSessions.REFRESH, ConsoleSessions.CSRF), ConsoleSessions.CSRF_HEADER, csrf));
        assertThat(refreshed.status().code()).as(refreshed.contentUtf8() + refreshed.headers()).isEqualTo(200);
        final Map<String, Cookie> second = cookies(refreshed);
        assertThat(second.get(ConsoleSessions.REFRESH).value()).isNotEqualTo(first.get(ConsoleSessions.REFRESH).value());
        assertThat(refreshed.contentUtf8()).doesNotContain(second.get(ConsoleSessions.SESSION).value());
        final String jar = jar(second, ConsoleSessions.SESSION, ConsoleSessions.CSRF);
        assertThat(call(HttpMethod.GET, "/api/auth/me", null, Map.of("cookie", jar)).status().code()).isEqualTo(200);

        final AggregatedHttpResponse out = call(HttpMethod.POST, "/api/auth/logout", "{}",
                Map.of("cookie", jar, ConsoleSessions.CSRF_HEADER, second.get(ConsoleSessions.CSRF).value()));
        assertThat(out.status().code()).as(out.contentUtf8()).isEqualTo(200);
        final Map<String, Cookie> cleared = cookies(out);
        assertThat(cleared.get(ConsoleSessions.SESSION).value()).isEmpty();
        assertThat(cleared.get(ConsoleSessions.SESSION).maxAge()).isZero();
        // Revoked everywhere: both generations of the session's cookies, and its refresh token.
        assertThat(call(HttpMethod.GET, "/api/auth/me", null, Map.of("cookie", jar)).status().code()).isEqualTo(401);
        assertThat(call(HttpMethod.GET, "/api/auth/me", null,
                        Map.of("cookie", jar(first, ConsoleSessions.SESSION))).status().code()).isEqualTo(401);
        assertThat(call(HttpMethod.POST, "/api/auth/refresh", "{}",
                        Map.of("cookie", jar(second, ConsoleSessions.REFRESH, ConsoleSessions.CSRF),
                               ConsoleSessions.CSRF_HEADER, second.get(ConsoleSessions.CSRF).value())).status().code())
                .isEqualTo(401);
    }

    @Test
    void aBrowserGetsTheConsoleAtTheRootAndProgramsStillGetJson() {
        final AggregatedHttpResponse page = call(HttpMethod.GET, "/", null, Map.of("accept", "text/html"));
        assertThat(page.status().code()).isEqualTo(200);
        assertThat(page.contentType().is(MediaType.HTML_UTF_8.withoutParameters())).isTrue();
        assertThat(page.headers().getAll("content-security-policy")).containsExactly(ConsoleAssets.POLICY);
        assertThat(page.contentUtf8()).contains("<html");
        assertThat(call(HttpMethod.GET, "/console/app.js", null, Map.of()).status().code()).isEqualTo(200);
        assertThat(call(HttpMethod.GET, "/console/../secrets", null, Map.of()).status().code()).isIn(400, 404);
        final AggregatedHttpResponse root = call(HttpMethod.GET, "/", null, Map.of());
        assertThat(root.status().code()).isEqualTo(401); // the service's JSON root still needs a credential
    }

    private static AggregatedHttpResponse login(String username, String password) {
        return call(HttpMethod.POST, "/api/auth/login",
                    "{\"username\":\"" + username + "\",\"password\":\"" + password + "\"}",
                    Map.of(ConsoleSessions.MODE_HEADER, "cookie"));
    }

    static Map<String, Cookie> cookies(AggregatedHttpResponse response) {
        final Map<String, Cookie> cookies = new HashMap<>();
        response.headers().cookies().forEach(c -> cookies.put(c.name(), c));
        return cookies;
    }

    static String jar(Map<String, Cookie> cookies, String... names) {
        return List.of(names).stream().map(n -> n + '=' + cookies.get(n).value()).collect(Collectors.joining("; "));
    }

    static AggregatedHttpResponse call(HttpMethod method, String path, String json, Map<String, String> extra) {
        final RequestHeadersBuilder headers = RequestHeaders.builder(method, path);
        if (json != null) {
            headers.contentType(MediaType.JSON_UTF_8);
        }
        extra.forEach(headers::add);
        final WebClient client = WebClient.of("http://127.0.0.1:" + gateway.port());
        return (json == null ? client.execute(headers.build()) : client.execute(headers.build(), json)).aggregate().join();
    }
}
