package ai.sonia.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.RequestHeaders;

import ai.sonia.runtime.ServiceSpec;
import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.Stack;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.testing.TestHomes;
import ai.sonia.runtime.tls.TlsMaterial;
import ai.sonia.runtime.tls.TlsSettings;

/**
 * The operator's commands ({@code StackMain token | targets | config check | tls}) as {@code scripts/sonia}
 * runs them: tokens a real service accepts, the ports and targets of the same configuration, a config refused
 * with the nearest key named, the certificate's fingerprint.
 */
class OperatorCommandsTest {

    /** What one command printed and returned. */
    record Result(int status, String out, String err) {}

    static Result run(Map<String, String> env, String... args) {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        final int status = new OperatorCommands(env, new PrintStream(out, true, StandardCharsets.UTF_8),
                                                new PrintStream(err, true, StandardCharsets.UTF_8)).run(List.of(args));
        return new Result(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void tokensItIssuesAreAcceptedByARealServiceOfTheSameHome() throws Exception {
        final Map<String, String> env = Map.of("SONIA_HOME", TestHomes.create("operator-token").toString());
        final Result operator = run(env, "token");
        final Result user = run(env, "token", "--user", "acme/alice");
        assertThat(operator.status()).isZero();
        assertThat(user.status()).isZero();
        final StackConfig config = StackConfig.load(env).withPorts(Map.of("evaos", 0));
        try (SoniaServer evaos = StackMain.modules().get("evaos").newServer(config).start()) {
            final WebClient client = WebClient.of("http://127.0.0.1:" + evaos.port());
            assertThat(status(client, "/status", operator.out().trim())).isEqualTo(200);
            assertThat(status(client, "/v1/approvals", user.out().trim())).isEqualTo(200);

            // A token of another home (another key) is refused: the check above is not vacuous.
            final String stranger = run(Map.of("SONIA_HOME", TestHomes.create("operator-token-other").toString()),
                                        "token").out().trim();
            assertThat(status(client, "/status", stranger)).isEqualTo(401);
        }
    }

    @Test
    void tokenRefusesAMalformedUserAndPrintsNothingOnStdout() {
        final Map<String, String> env = Map.of("SONIA_HOME", TestHomes.create("operator-token-usage").toString());
        final Result noSlash = run(env, "token", "--user", "alice");
        assertThat(noSlash.status()).isEqualTo(1);
        assertThat(noSlash.out()).isEmpty();
        assertThat(noSlash.err()).contains("token --user: expected <tenant>/<user>");
        assertThat(run(env, "token", "--admin").err()).contains("token: unknown option --admin");
    }

    @Test
    void targetsFollowStackConfigWithAPortOffset() {
        final Map<String, String> env = Map.of("SONIA_HOME", TestHomes.create("operator-targets").toString(),
                                               "SONIA_PORT_OFFSET", "900");
        final Result targets = run(env, "targets");
        assertThat(targets.status()).isZero();
        final StackConfig config = StackConfig.load(env);
        final StringBuilder expected = new StringBuilder();
        for (ServiceSpec spec : Stack.SERVICES) {
            assertThat(config.port(spec)).isEqualTo(spec.port() + 900);
            expected.append(spec.name()).append(' ').append(spec.port() + 900)
                    .append(" 127.0.0.1:").append(spec.port() + 900).append(System.lineSeparator());
        }
        assertThat(targets.out()).isEqualTo(expected.toString());
    }

    @Test
    void configCheckRefusesAnUnknownKeyNamingTheNearestAndPrintsNoSecret() throws Exception {
        final Path home = TestHomes.create("operator-config");
        Files.createDirectories(home.resolve("config"));
        Files.writeString(home.resolve("config/sonia.json"), "{\"services\": {\"memory\": {\"embeding\": {}}}}");
        final Map<String, String> env = new HashMap<>(Map.of("SONIA_HOME", home.toString()));
        final Result refused = run(env, "config", "check");
        assertThat(refused.status()).isEqualTo(1);
        assertThat(refused.err()).contains("services.memory.embeding: unknown key; did you mean \"embedding\"?");

        Files.writeString(home.resolve("config/sonia.json"), "{\"portOffset\": 900}");
        env.put("SONIA_JWT_SECRET", "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldC0=");
        final Result valid = run(env, "config", "check");
        assertThat(valid.status()).isZero();
        assertThat(valid.out()).contains("is valid").contains("memory    7920   127.0.0.1:7920")
                               .doesNotContain(env.get("SONIA_JWT_SECRET"));
        assertThat(run(env, "config", "nonsense").err()).contains("config: expected check or doc");
    }

    @Test
    void tlsPrintsTheIssuedCertificatesFingerprintAndTheCaToTrust() {
        final Map<String, String> env = Map.of("SONIA_HOME", TestHomes.create("operator-tls").toString());
        final Result before = run(env, "tls");
        assertThat(before.status()).isEqualTo(1);
        assertThat(before.err()).contains("no certificate at").contains("secrets/tls/server.pem");

        // What the gateway's first start issues, in the same home.
        final TlsMaterial issued = TlsSettings.from(StackConfig.load(env)).material();
        final Result tls = run(env, "tls", "--port", "7900");
        assertThat(tls.status()).isZero();
        assertThat(tls.out()).contains("TLS: https://localhost:7900 (gRPC over TLS on the same port), certificate "
                                       + issued.certChain())
                             .contains("SHA-256 " + issued.fingerprint())
                             .contains("trust: curl --cacert " + issued.trust() + " https://localhost:7900/healthz")
                             .doesNotContain("PRIVATE KEY");
        assertThat(run(env, "tls").out()).contains("https://localhost:7000 ");
    }

    private static int status(WebClient client, String path, String bearer) {
        return client.execute(RequestHeaders.of(HttpMethod.GET, path, HttpHeaderNames.AUTHORIZATION, "Bearer " + bearer))
                     .aggregate().join().status().code();
    }
}
