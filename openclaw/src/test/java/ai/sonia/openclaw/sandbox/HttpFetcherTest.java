package ai.sonia.openclaw.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.ResponseHeaders;
import com.linecorp.armeria.server.Server;

import ai.sonia.runtime.errors.DomainException;


/** SSRF attempts against a real HTTP server on loopback. */
class HttpFetcherTest {

    private static Server server;
    private static int port;
    private static HttpFetcher fetcher;

    @BeforeAll
    static void start() {
        server = ai.sonia.runtime.SoniaServer.stopAtOnce(Server.builder()).http(0)
                       .service("/ok", (ctx, req) -> HttpResponse.of("hello"))
                       .service("/big", (ctx, req) -> HttpResponse.of("x".repeat(200_000)))
                       .service("/to-ok", (ctx, req) -> redirect("/ok"))
                       .service("/to-evil", (ctx, req) -> redirect("http://example.com/"))
                       .service("/to-hex", (ctx, req) -> redirect("http://0x7f.1:" + port + "/ok"))
                       .service("/to-mapped", (ctx, req) -> redirect("http://[::ffff:127.0.0.1]:" + port + "/ok"))
                       .service("/to-file", (ctx, req) -> redirect("file:///etc/passwd"))
                       .service("/loop", (ctx, req) -> redirect("/loop"))
                       .service("/slow", (ctx, req) -> HttpResponse.delayed(HttpResponse.of("late"),
                                                                             Duration.ofSeconds(3)))
                       .build();
        server.start().join();
        port = server.activeLocalPort();
        fetcher = new HttpFetcher(new HostPolicy(List.of("localhost", "127.0.0.1")), 10_000, Duration.ofSeconds(5));
    }

    @AfterAll
    static void stop() {
        server.stop().join();
    }

    private static HttpResponse redirect(String location) {
        return HttpResponse.of(ResponseHeaders.of(HttpStatus.FOUND, "location", location));
    }

    @Test
    void allowedHostIsFetchedAndRedirectsInsideAreFollowed() {
        final HttpFetcher.Fetched ok = fetcher.fetch("http://127.0.0.1:" + port + "/to-ok", "", Map.of(), "");
        assertThat(ok.status()).isEqualTo(200);
        assertThat(ok.body()).isEqualTo("hello");
        assertThat(ok.redirects()).isEqualTo(1);
        assertThat(fetcher.fetch("http://localhost:" + port + "/ok", "GET", Map.of(), "").body()).isEqualTo("hello");
    }

    @Test
    void bodyIsCappedAndMarkedTruncated() {
        final HttpFetcher.Fetched big = fetcher.fetch("http://127.0.0.1:" + port + "/big", "", Map.of(), "");
        assertThat(big.truncated()).isTrue();
        assertThat(big.body()).hasSize(10_000);
    }

    @ParameterizedTest
    @ValueSource(strings = {"/to-evil", "/to-hex", "/to-mapped", "/to-file", "/loop"})
    void everyRedirectIsCheckedAgain(String path) {
        assertThatThrownBy(() -> fetcher.fetch("http://127.0.0.1:" + port + path, "", Map.of(), ""))
                .isInstanceOfSatisfying(DomainException.class,
                                        e -> assertThat(e.field()).isEqualTo("arguments.url"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"http://example.com/", "http://0x7f.1/", "http://0x7f000001/", "http://2130706433/",
                            "http://017700000001/", "http://127.1/", "http://[::ffff:127.0.0.1]/",
                            "http://[0:0:0:0:0:ffff:7f00:1]/", "http://evil.com@127.0.0.1/", "file:///etc/passwd",
                            "gopher://127.0.0.1/", "http://169.254.169.254/latest/meta-data", "http://0.0.0.0/",
                            "http://localhost.evil.com/", "not a url"})
    void disallowedTargetsAreRefusedBeforeAnyConnection(String url) {
        assertThatThrownBy(() -> fetcher.fetch(url, "", Map.of(), ""))
                .isInstanceOfSatisfying(DomainException.class,
                                        e -> assertThat(e.field()).isEqualTo("arguments.url"));
    }

    @Test
    void aNameThatResolvesToAPrivateAddressNeedsTheOperatorsExplicitConsent() throws Exception {
        // The machine's own name resolves (through /etc/hosts) to a loopback or private address: even with the
        // public internet open, it is refused until an operator lists it.
        final String hostname = java.net.InetAddress.getLocalHost().getHostName();
        final HostPolicy open = new HostPolicy(List.of(), true, java.util.Set.of());
        assertThatThrownBy(() -> open.check("http://" + hostname + "/", "u"))
                .isInstanceOfSatisfying(DomainException.class,
                                        e -> assertThat(e.getMessage()).contains("forbidden"));
        assertThatThrownBy(() -> open.check("http://localhost./", "u"))
                .isInstanceOf(DomainException.class);
        final HostPolicy listed = new HostPolicy(List.of("localhost.", hostname), true, java.util.Set.of());
        assertThat(listed.check("http://localhost./", "u").address().isLoopbackAddress()).isTrue();
        assertThat(listed.check("http://" + hostname + "/", "u").host()).isEqualTo(hostname.toLowerCase());
    }

    @Test
    void soniasOwnPortsNeedTheHostListedWithThePort() {
        final HostPolicy policy = new HostPolicy(List.of("127.0.0.1", "localhost:7020"), true,
                                                 java.util.Set.of(7000, 7020, 7040));
        assertThat(policy.check("http://127.0.0.1:8080/", "u").port()).isEqualTo(8080);
        assertThatThrownBy(() -> policy.check("http://127.0.0.1:7040/", "u"))
                .isInstanceOfSatisfying(DomainException.class,
                                        e -> assertThat(e.getMessage()).contains("Sonia's own"));
        assertThat(policy.check("http://localhost:7020/", "u").port()).isEqualTo(7020);
    }

    @ParameterizedTest
    @ValueSource(strings = {"127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1",
                            "0.0.0.0", "224.0.0.1", "255.255.255.255", "198.18.0.1", "::1", "::", "fe80::1",
                            "fc00::1", "fd12::1", "ff02::1", "::ffff:10.0.0.1", "::10.0.0.1", "64:ff9b::a00:1",
                            "2002:0a00:0001::1", "2001:0:4136:e378::1", "2001:db8::1"})
    void nonPublicAddressesAreRecognised(String literal) throws Exception {
        assertThat(HostPolicy.isPublic(java.net.InetAddress.getByName(literal))).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"93.184.215.14", "8.8.8.8", "2606:2800:21f:cb07:6820:80da:af6b:8b2c",
                            "64:ff9b::808:808", "2002:0808:0808::1"})
    void publicAddressesAreRecognised(String literal) throws Exception {
        assertThat(HostPolicy.isPublic(java.net.InetAddress.getByName(literal))).isTrue();
    }

    @Test
    void aTargetThatDoesNotAnswerInTimeIsReportedAsATimeout() {
        final HttpFetcher impatient = new HttpFetcher(new HostPolicy(List.of("127.0.0.1")), 10_000,
                                                      Duration.ofMillis(300));
        assertThatThrownBy(() -> impatient.fetch("http://127.0.0.1:" + port + "/slow", "", Map.of(), ""))
                .isInstanceOfSatisfying(HttpFetcher.FetchFailedException.class, e -> assertThat(e.timedOut()).isTrue());
    }

    @Test
    void forbiddenMethodsAndHeadersAreRefused() {
        assertThatThrownBy(() -> fetcher.fetch("http://127.0.0.1:" + port + "/ok", "DELETE", Map.of(), ""))
                .isInstanceOfSatisfying(DomainException.class,
                                        e -> assertThat(e.field()).isEqualTo("arguments.method"));
        assertThatThrownBy(() -> fetcher.fetch("http://127.0.0.1:" + port + "/ok", "", Map.of("Host", "x"), ""))
                .isInstanceOfSatisfying(DomainException.class,
                                        e -> assertThat(e.field()).isEqualTo("arguments.headers"));
    }
}
