package ai.sonia.launcher;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

import ai.sonia.common.v1.Role;
import ai.sonia.runtime.ConfigException;
import ai.sonia.runtime.ServiceSpec;
import ai.sonia.runtime.Stack;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.auth.AccessTokens;
import ai.sonia.runtime.auth.Principal;
import ai.sonia.runtime.auth.ServiceCredentials;
import ai.sonia.runtime.tls.TlsMaterial;
import ai.sonia.runtime.tls.TlsSettings;

/**
 * The operator's commands behind {@code scripts/sonia}, on the runtime's own classes so that nothing drifts
 * from what the services do: the same configuration ({@link StackConfig}: ports, targets, the schema), the
 * same keys ({@code Secrets}) and the same token layouts ({@link ServiceCredentials}, {@link AccessTokens}).
 * <ul>
 *   <li>{@code token}: a one-minute service credential of the operator ({@code service:operator}); with
 *       {@code --user <tenant>/<user> [--admin]}, an hour-long access token of that user;</li>
 *   <li>{@code targets}: one {@code <service> <port> <target>} line per service, what {@code scripts/sonia}
 *       waits on;</li>
 *   <li>{@code config check}: the config against every service's schema, and the ports it gives; exits 1
 *       naming each problem; {@code config doc}: the reference, {@code docs/config.md};</li>
 *   <li>{@code tls [--port N]}: the gateway's certificate (the configured one, or the one issued on first
 *       start), its SHA-256 fingerprint and the CA file clients trust; at the running gateway's port when
 *       given, else the configured one;</li>
 *   <li>{@code backup [--out FILE] [--with-secrets]}, {@code restore FILE}: {@link StackBackup}.</li>
 * </ul>
 * Nothing secret is printed but the token asked for.
 */
final class OperatorCommands {

    /** The first words that name an operator command rather than a service. */
    static final Set<String> NAMES = Set.of("token", "targets", "config", "tls", "backup", "restore");

    /** How long a user's access token from {@code token --user} lives, for load tests and scripts. */
    static final Duration USER_TOKEN_TTL = Duration.ofHours(1);

    private final Map<String, String> env;
    private final PrintStream out;
    private final PrintStream err;

    OperatorCommands(Map<String, String> env, PrintStream out, PrintStream err) {
        this.env = env;
        this.out = out;
        this.err = err;
    }

    /** Runs one command; returns the exit status (0 done, 1 refused, failed or misused). */
    int run(List<String> args) {
        final String command = args.isEmpty() ? "" : args.get(0);
        final List<String> rest = args.subList(Math.min(1, args.size()), args.size());
        if ("config".equals(command) && rest.size() == 1 && "doc".equals(rest.get(0))) {
            out.print(ai.sonia.codegen.ConfigReference.render());
            return 0;
        }
        final StackConfig config;
        try {
            config = StackConfig.load(env);
        } catch (ConfigException e) {
            err.println("sonia: " + e.headline());
            e.problems().forEach(p -> err.println("  - " + p));
            return 1;
        } catch (RuntimeException e) {
            err.println("sonia: the configuration is refused: " + e.getMessage());
            return 1;
        }
        try {
            return switch (command) {
                case "token" -> token(config, rest);
                case "targets" -> targets(config, rest);
                case "config" -> config(config, rest);
                case "tls" -> tls(config, rest);
                case "backup", "restore" -> StackBackup.run(config, args);
                default -> usage("unknown command " + command + " (expected one of " + NAMES + ')');
            };
        } catch (IllegalArgumentException e) { // a key in the environment that is not base64, say
            err.println("sonia: " + command + ": " + e.getMessage());
            return 1;
        }
    }

    private int token(StackConfig config, List<String> args) {
        if (args.isEmpty()) {
            out.println(ServiceCredentials.of(config).issue("operator", Principal.service("operator")));
            return 0;
        }
        if (!"--user".equals(args.get(0))) {
            return usage("token: unknown option " + args.get(0));
        }
        if (args.size() < 2 || args.size() > 3 || args.size() == 3 && !"--admin".equals(args.get(2))) {
            return usage("token --user <tenant>/<user> [--admin]");
        }
        final String name = args.get(1);
        final int slash = name.indexOf('/');
        if (slash <= 0 || slash == name.length() - 1) {
            return usage("token --user: expected <tenant>/<user>");
        }
        final Principal user = Principal.user(name.substring(0, slash), name.substring(slash + 1),
                                              args.size() == 3 ? Role.ROLE_ADMIN : Role.ROLE_USER);
        out.println(AccessTokens.of(config).issue(user, "operator-" + UUID.randomUUID(), USER_TOKEN_TTL));
        return 0;
    }

    private int targets(StackConfig config, List<String> args) {
        if (!args.isEmpty()) {
            return usage("targets takes no arguments");
        }
        for (ServiceSpec spec : Stack.SERVICES) {
            out.println(spec.name() + ' ' + config.port(spec) + ' ' + config.target(spec));
        }
        return 0;
    }

    private int config(StackConfig config, List<String> args) {
        if (!args.isEmpty() && !List.of("check").equals(args)) {
            return usage("config: expected check or doc");
        }
        out.println("config: " + config.file().map(f -> f + " is valid").orElse("no file: every default"));
        out.printf("%-9s %-6s %s%n", "SERVICE", "PORT", "REACHED AT");
        for (ServiceSpec spec : Stack.SERVICES) {
            out.printf("%-9s %-6d %s%n", spec.name(), config.port(spec), config.target(spec));
        }
        return 0;
    }

    private int tls(StackConfig config, List<String> args) {
        final int port;
        if (args.isEmpty()) {
            port = config.port(Stack.GATEWAY);
        } else if (args.size() == 2 && "--port".equals(args.get(0)) && args.get(1).matches("[0-9]{1,5}")) {
            port = Integer.parseInt(args.get(1));
        } else {
            return usage("tls [--port N]");
        }
        try {
            tlsLines(config, port).forEach(out::println);
            return 0;
        } catch (IllegalStateException e) {
            err.println("sonia: tls: " + e.getMessage());
            return 1;
        }
    }

    /**
     * What {@code tls} prints for the gateway at {@code port}: the URL and certificate, its SHA-256 fingerprint
     * and the line that trusts the CA; {@link IllegalStateException} saying why when there is no certificate.
     */
    static List<String> tlsLines(StackConfig config, int port) {
        final TlsSettings settings = TlsSettings.from(config);
        final Path cert = settings.cert() != null ? settings.cert() : settings.directory().resolve("server.pem");
        final Path ca = settings.ca() != null ? settings.ca() : settings.directory().resolve("ca.pem");
        if (!settings.enabled() || !Files.isReadable(cert)) {
            throw new IllegalStateException("no certificate at " + cert + " (TLS off, or Sonia not started yet)");
        }
        final String fingerprint;
        try (InputStream in = Files.newInputStream(cert)) {
            fingerprint = TlsMaterial.fingerprint(
                    (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in));
        } catch (IOException | CertificateException e) {
            throw new IllegalStateException("cannot read the certificate " + cert + ": " + e.getMessage(), e);
        }
        final List<String> lines = new java.util.ArrayList<>(List.of(
                "TLS: https://localhost:" + port + " (gRPC over TLS on the same port), certificate " + cert,
                "     SHA-256 " + fingerprint));
        if (Files.isReadable(ca)) {
            lines.add("     trust: curl --cacert " + ca + " https://localhost:" + port + "/healthz");
        }
        return lines;
    }

    private int usage(String message) {
        err.println("sonia: " + message);
        return 1;
    }
}
