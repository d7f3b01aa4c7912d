package ai.sonia.runtime.tls;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;

import com.linecorp.armeria.common.annotation.Nullable;

import ai.sonia.runtime.ConfigSchema;
import ai.sonia.runtime.ServiceSpec;
import ai.sonia.runtime.Stack;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.auth.Secrets;

/**
 * The stack's TLS settings, from the {@code "tls"} section of the config file and the environment:
 *
 * <pre>{@code
 * "tls": { "enabled": true,                  // the gateway serves HTTPS and gRPC over TLS (default: true)
 *          "cert": "/etc/sonia/tls.crt",     // PEM certificate chain; with "key", else one is generated
 *          "key": "/etc/sonia/tls.key",      // PEM private key (PKCS#8)
 *          "ca": "/etc/sonia/ca.crt",        // what callers trust (default: the generated local CA)
 *          "hostnames": ["sonia.example"],   // extra names of the generated certificate
 *          "plaintextOnLoopback": true,      // a loopback-bound port also answers plain HTTP (default: true)
 *          "mutual": false }                 // every service serves TLS and asks callers for a certificate
 * }</pre>
 * Environment: {@code SONIA_TLS} (on/off), {@code SONIA_TLS_CERT}, {@code SONIA_TLS_KEY}, {@code SONIA_TLS_CA},
 * {@code SONIA_TLS_HOSTNAMES} (comma-separated), {@code SONIA_TLS_MUTUAL} (true/false).
 *
 * <p>Without a configured certificate, a local CA and a certificate for {@code localhost}, 127.0.0.1 and ::1
 * (plus {@code hostnames}) signed by it are generated on first start under {@code $SONIA_HOME/secrets/tls/},
 * owner-only ({@link LocalCa}). Plain HTTP stays on for a loopback-bound port only (same port, Armeria tells
 * the protocols apart), so local tools keep working; a port bound to any other address serves TLS only.
 */
public record TlsSettings(boolean enabled, @Nullable Path cert, @Nullable Path key, @Nullable Path ca,
                          List<String> hostnames, boolean plaintextOnLoopback, boolean mutual, Path directory) {

    private static final Set<String> KEYS =
            Set.of("enabled", "cert", "key", "ca", "hostnames", "plaintextOnLoopback", "mutual");

    public TlsSettings {
        hostnames = List.copyOf(hostnames);
        if ((cert == null) != (key == null)) {
            throw new IllegalArgumentException("tls: \"cert\" and \"key\" go together (got only "
                                               + (cert != null ? "cert" : "key") + ')');
        }
        if (mutual && !enabled) {
            throw new IllegalArgumentException("tls: \"mutual\" needs TLS (\"enabled\": true)");
        }
    }

    /** The keys of the top-level {@code tls} section (each also SONIA_TLS_<KEY> where noted). */
    public static ConfigSchema schema() {
        final ConfigSchema schema = ConfigSchema.object(
                "HTTPS and gRPC over TLS on the gateway (every service with mutual TLS).")
                .field("enabled", ConfigSchema.bool("TLS on the gateway's port (SONIA_TLS).", true))
                .field("cert", ConfigSchema.string(
                        "PEM certificate chain (SONIA_TLS_CERT); else one issued on first start.", null))
                .field("key", ConfigSchema.string("PEM private key (SONIA_TLS_KEY).", null))
                .field("ca", ConfigSchema.string("PEM CA that clients trust (SONIA_TLS_CA).", null))
                .field("hostnames", ConfigSchema.strings(
                        "Extra names on the issued certificate (SONIA_TLS_HOSTNAMES).", "localhost, 127.0.0.1, ::1"))
                .field("plaintextOnLoopback", ConfigSchema.bool(
                        "Also answer plain HTTP while bound to loopback.", true))
                .field("mutual", ConfigSchema.bool(
                        "Mutual TLS between services (SONIA_TLS_MUTUAL).", false));
        return schema;
    }

    /** The settings of the stack {@code config} names. */
    public static TlsSettings from(StackConfig config) {
        final JsonNode section = config.section("tls");
        for (Iterator<String> names = section.fieldNames(); names.hasNext();) {
            final String name = names.next();
            if (!KEYS.contains(name)) {
                throw new IllegalArgumentException("tls: unknown key \"" + name + "\" (expected one of "
                                                   + KEYS.stream().sorted().toList() + ')');
            }
        }
        final List<String> hostnames = new ArrayList<>();
        section.path("hostnames").forEach(n -> hostnames.add(n.asText()));
        final String fromEnv = config.env("SONIA_TLS_HOSTNAMES");
        if (fromEnv != null) {
            for (String name : fromEnv.split(",")) {
                if (!name.isBlank()) {
                    hostnames.add(name.trim());
                }
            }
        }
        return new TlsSettings(bool(config, "SONIA_TLS", section, "enabled", true),
                               path(config, "SONIA_TLS_CERT", section, "cert"),
                               path(config, "SONIA_TLS_KEY", section, "key"),
                               path(config, "SONIA_TLS_CA", section, "ca"),
                               hostnames,
                               section.path("plaintextOnLoopback").asBoolean(true),
                               bool(config, "SONIA_TLS_MUTUAL", section, "mutual", false),
                               Secrets.directory(config).resolve("tls"));
    }

    /** Whether {@code spec} serves TLS: the gateway whenever TLS is on, every service with mutual TLS. */
    public boolean serves(ServiceSpec spec) {
        return enabled && (mutual || Stack.GATEWAY.name().equals(spec.name()));
    }

    /** Whether a port bound to {@code bindAddress} also answers plain HTTP: loopback only, unless turned off. */
    public boolean plaintextOn(String bindAddress) {
        return plaintextOnLoopback && isLoopback(bindAddress);
    }

    /** The certificate, key and trust to use: the configured ones, or the local CA's (generated if needed). */
    public TlsMaterial material() {
        if (cert != null) {
            return TlsMaterial.configured(cert, key, ca);
        }
        return LocalCa.ensure(directory, hostnames);
    }

    static boolean isLoopback(String address) {
        try {
            return InetAddress.getByName(address).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    private static boolean bool(StackConfig config, String variable, JsonNode section, String key, boolean fallback) {
        final String fromEnv = config.env(variable);
        if (fromEnv != null) {
            switch (fromEnv.trim().toLowerCase(Locale.ROOT)) {
                case "1", "true", "on", "yes": return true;
                case "0", "false", "off", "no": return false;
                default: throw new IllegalArgumentException(variable + ": " + fromEnv + " (expected: on or off)");
            }
        }
        final JsonNode node = section.get(key);
        if (node == null) {
            return fallback;
        }
        if (!node.isBoolean()) {
            throw new IllegalArgumentException("tls." + key + ": " + node + " (expected: true or false)");
        }
        return node.asBoolean();
    }

    @Nullable
    private static Path path(StackConfig config, String variable, JsonNode section, String key) {
        final String fromEnv = config.env(variable);
        final String value = fromEnv != null ? fromEnv : section.path(key).asText("");
        return value.isBlank() ? null : config.home().resolve(value.trim());
    }
}
