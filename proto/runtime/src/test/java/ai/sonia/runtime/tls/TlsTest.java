package ai.sonia.runtime.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import com.linecorp.armeria.client.ClientFactory;
import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.common.AggregatedHttpResponse;

import ai.sonia.evaos.v1.EvaOsServiceGrpc;
import ai.sonia.gateway.v1.GatewayServiceGrpc;
import ai.sonia.runtime.ServiceSpec;
import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.Stack;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.client.SoniaChannels;
import ai.sonia.runtime.testing.Programs;
import ai.sonia.runtime.testing.Programs.Result;
import ai.sonia.runtime.testing.TestCredentials;
import ai.sonia.runtime.testing.TestHomes;
import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;

/** The gateway on TLS with a generated or configured certificate, and mutual TLS between services. */
class TlsTest {

    @Test
    void gatewayServesHttpsAndGrpcOverTlsWithAGeneratedCertificate() throws Exception {
        final StackConfig config = config("tls-generated", Map.of());
        try (SoniaServer server = gateway(config)) {
            final Path ca = config.home().resolve("secrets/tls/ca.pem");
            assertThat(ca).exists();
            for (String file : List.of("ca.pem", "ca.key", "server.pem", "server.key")) {
                assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(ca.resolveSibling(file))))
                        .as(file).isEqualTo("rw-------");
            }
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(ca.getParent())))
                    .isEqualTo("rwx------");

            // HTTPS with an Armeria client that trusts the local CA, by name and by loopback address.
            try (ClientFactory trusting = ClientFactory.builder().tlsCustomizer(b -> b.trustManager(ca.toFile()))
                                                       .build()) {
                for (String host : List.of("localhost", "127.0.0.1")) {
                    final AggregatedHttpResponse healthz =
                            WebClient.builder("https://" + host + ':' + server.port()).factory(trusting).build()
                                     .get("/healthz").aggregate().join();
                    assertThat(healthz.status().code()).as(host).isEqualTo(200);
                    assertThat(healthz.contentUtf8()).contains("\"ok\":true");
                }
            }
            // A client that does not trust the CA is refused at the handshake.
            assertThatThrownBy(() -> WebClient.of("https://localhost:" + server.port()).get("/healthz")
                                              .aggregate().join())
                    .hasStackTraceContaining("SSL");

            // gRPC over TLS through the runtime's channel factory (which trusts the stack's CA).
            assertThat(grpcHealth(config, "localhost:" + server.port(), Stack.GATEWAY)).isEqualTo(ServingStatus.SERVING);

            // The port is bound to loopback, so plain HTTP stays on there for local tools.
            assertThat(WebClient.of("http://127.0.0.1:" + server.port()).get("/healthz").aggregate().join()
                                .status().code()).isEqualTo(200);
        }
    }

    @Test
    void curlTrustsTheGatewayWithTheCaFileAndSeesTheLoggedFingerprint() throws Exception {
        assumeTrue(Programs.onPath("curl"), "curl is not installed");
        final StackConfig config = config("tls-curl", Map.of());
        final String fingerprint;
        try (SoniaServer server = gateway(config)) {
            final Path ca = config.home().resolve("secrets/tls/ca.pem");
            final String url = "https://localhost:" + server.port() + "/healthz";
            final Result trusted = Programs.run("curl", "-sS", "--max-time", "10", "--cacert", ca.toString(), url);
            assertThat(trusted.exit()).as(trusted.output()).isZero();
            assertThat(trusted.output()).contains("\"ok\":true", "\"service\":\"gateway\"");
            final Result untrusted = Programs.run("curl", "-sS", "--max-time", "10", url);
            assertThat(untrusted.exit()).as("curl without --cacert: certificate problem").isEqualTo(60);
            fingerprint = TlsSettings.from(config).material().fingerprint();
            if (Programs.onPath("openssl")) {
                final Result openssl = Programs.run("openssl", "x509", "-noout", "-fingerprint", "-sha256", "-in",
                                           config.home().resolve("secrets/tls/server.pem").toString());
                assertThat(openssl.output().trim()).endsWith("=" + fingerprint);
            }
        }
        // A second start keeps the certificate: the fingerprint a user pinned stays valid.
        try (SoniaServer ignored = gateway(config)) {
            assertThat(TlsSettings.from(config).material().fingerprint()).isEqualTo(fingerprint);
        }
    }

    @Test
    void thePkcs8KeyTheLocalCaWritesIsReadByTheJdkAndMatchesTheCertificate() throws Exception {
        final TlsMaterial issued = TlsSettings.from(config("tls-key-pkcs8", Map.of())).material();
        assertThat(Files.readString(issued.key())).startsWith("-----BEGIN PRIVATE KEY-----");
        final com.linecorp.armeria.common.TlsKeyPair pair = issued.keyPair();
        assertThat(pair.certificateChain().get(0)).isEqualTo(issued.leaf());
        final java.security.Signature signer = java.security.Signature.getInstance("SHA256withECDSA");
        signer.initSign(pair.privateKey());
        signer.update(new byte[] {1, 2, 3});
        final byte[] signature = signer.sign();
        final java.security.Signature verifier = java.security.Signature.getInstance("SHA256withECDSA");
        verifier.initVerify(issued.leaf().getPublicKey());
        verifier.update(new byte[] {1, 2, 3});
        assertThat(verifier.verify(signature)).isTrue();
    }

    @Test
    void aConfiguredCertificateIsServedAndPlaintextCanBeTurnedOff() throws Exception {
        final StackConfig issuer = config("tls-issuer", Map.of());
        final TlsMaterial issued = TlsSettings.from(issuer).material();
        final Path home = TestHomes.create("tls-configured");
        Files.createDirectories(home.resolve("config"));
        Files.writeString(home.resolve("config/sonia.json"), "{\"tls\": {\"cert\": \"" + issued.certChain()
                + "\", \"key\": \"" + issued.key() + "\", \"ca\": \"" + issued.trust()
                + "\", \"plaintextOnLoopback\": false}}");
        final StackConfig config = StackConfig.load(TestHomes.env(home)).withPorts(Map.of("gateway", 0));
        try (SoniaServer server = gateway(config)) {
            assertThat(home.resolve("secrets/tls")).doesNotExist();
            try (ClientFactory trusting = ClientFactory.builder()
                                                       .tlsCustomizer(b -> b.trustManager(issued.trust().toFile()))
                                                       .build()) {
                assertThat(WebClient.builder("https://localhost:" + server.port()).factory(trusting)
                                    .auth(com.linecorp.armeria.common.auth.AuthToken.ofOAuth2(
                                            TestCredentials.adminToken(config)))
                                    .build().get("/status").aggregate().join().contentUtf8())
                        .contains(issued.fingerprint());
            }
            assertThatThrownBy(() -> WebClient.of("http://127.0.0.1:" + server.port()).get("/healthz")
                                              .aggregate().join())
                    .isNotNull();
            // A caller (pipecat, in its own pod) given only the CA trusts it, and makes no CA of its own.
            final StackConfig caller = config("tls-caller", Map.of("SONIA_TLS_CA", issued.trust().toString()));
            assertThat(grpcHealth(caller, config, "localhost:" + server.port(), Stack.GATEWAY))
                    .isEqualTo(ServingStatus.SERVING);
            assertThat(caller.home().resolve("secrets/tls")).doesNotExist();
        }
    }

    @Test
    void mutualTlsAsksServicesForACertificateOfTheStacksCa() throws Exception {
        final StackConfig config = config("tls-mutual", Map.of("SONIA_TLS_MUTUAL", "true"))
                .withPorts(Map.of("evaos", 0));
        assertThat(TlsSettings.from(config).serves(Stack.EVAOS)).isTrue();
        try (SoniaServer server = SoniaServer.builder(Stack.EVAOS, config)
                                             .addService(new EvaOsServiceGrpc.EvaOsServiceImplBase() {})
                                             .build().start()) {
            final Path ca = config.home().resolve("secrets/tls/ca.pem");
            // A service's channel shows the stack's certificate.
            assertThat(grpcHealth(config, "127.0.0.1:" + server.port(), Stack.EVAOS)).isEqualTo(ServingStatus.SERVING);
            // A caller that trusts the CA but shows no certificate reaches the probes only.
            try (ClientFactory noCertificate = ClientFactory.builder()
                                                            .tlsCustomizer(b -> b.trustManager(ca.toFile())).build()) {
                final WebClient client = WebClient.builder("https://localhost:" + server.port())
                                                  .factory(noCertificate).build();
                assertThat(client.get("/healthz").aggregate().join().status().code()).isEqualTo(200);
                final AggregatedHttpResponse status = client.get("/status").aggregate().join();
                assertThat(status.status().code()).isEqualTo(401);
                assertThat(status.contentUtf8()).contains("UNAUTHENTICATED", "client certificate");
            }
        }
    }

    @Test
    void settingsRefuseWhatCannotWork() {
        assertThat(TlsSettings.isLoopback("127.0.0.1")).isTrue();
        assertThat(TlsSettings.isLoopback("::1")).isTrue();
        assertThat(TlsSettings.isLoopback("0.0.0.0")).isFalse();
        final StackConfig config = config("tls-settings", Map.of());
        assertThat(TlsSettings.from(config).plaintextOn("0.0.0.0")).isFalse();
        assertThat(TlsSettings.from(config).serves(Stack.MEMORY)).isFalse();
        assertThat(TlsSettings.from(config).serves(Stack.GATEWAY)).isTrue();
        assertThat(TlsSettings.from(config("tls-off", Map.of("SONIA_TLS", "off"))).serves(Stack.GATEWAY)).isFalse();
        assertThatThrownBy(() -> TlsSettings.from(config("tls-half", Map.of("SONIA_TLS_CERT", "/x.pem"))))
                .hasMessageContaining("\"cert\" and \"key\" go together");
        assertThatThrownBy(() -> TlsSettings.from(config("tls-bad", Map.of("SONIA_TLS_MUTUAL", "maybe"))))
                .hasMessageContaining("SONIA_TLS_MUTUAL");
    }

    private static StackConfig config(String name, Map<String, String> env) {
        final Map<String, String> all = new HashMap<>(TestHomes.env(TestHomes.create(name)));
        all.putAll(env);
        return StackConfig.load(all).withPorts(Map.of("gateway", 0));
    }

    private static SoniaServer gateway(StackConfig config) {
        final ServiceSpec spec = Stack.GATEWAY;
        return SoniaServer.builder(spec, config).addService(new GatewayServiceGrpc.GatewayServiceImplBase() {})
                          .build().start();
    }

    /** The gRPC health of a server, through the runtime's channel factory. */
    private static ServingStatus grpcHealth(StackConfig config, String target, ServiceSpec spec) {
        return grpcHealth(config, config, target, spec);
    }

    /** The same, with the TLS settings of {@code caller} and a token of the stack {@code server} names. */
    private static ServingStatus grpcHealth(StackConfig caller, StackConfig server, String target, ServiceSpec spec) {
        final ManagedChannel channel = SoniaChannels.forTarget(
                caller, target, spec, TestCredentials.bearer(TestCredentials.adminToken(server)));
        try {
            return HealthGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS)
                             .check(HealthCheckRequest.getDefaultInstance()).getStatus();
        } finally {
            SoniaChannels.close(channel);
        }
    }
}
