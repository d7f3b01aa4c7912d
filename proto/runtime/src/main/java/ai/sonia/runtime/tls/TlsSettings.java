package ai.sonia.runtime.tls;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.List;

import com.linecorp.armeria.common.annotation.Nullable;

import ai.sonia.runtime.ConfigKey;
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
 * Environment: each key by the stack's one rule ({@code SONIA_TLS_CERT} ...), and {@code SONIA_TLS} (on/off).
 *
 * <p>Without a configured certificate, a local CA and a certificate for {@code localhost}, 127.0.0.1 and ::1
 * (plus {@code hostnames}) signed by it are generated on first start under {@code $SONIA_HOME/secrets/tls/},
 * owner-only ({@link LocalCa}). Plain HTTP stays on for a loopback-bound port only (same port, Armeria tells
 * the protocols apart), so local tools keep working; a port bound to any other address serves TLS only.
 */
public record TlsSettings(boolean enabled, @Nullable Path cert, @Nullable Path key, @Nullable Path ca,
                          List<String> hostnames, boolean plaintextOnLoopback, boolean mutual, Path directory) {

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

    /** The keys of the top-level {@code tls} section, each declared once (each also SONIA_TLS_<KEY>). */
    @ConfigKey("HTTPS and gRPC over TLS on the gateway (every service with mutual TLS).")
    public record Keys(
            @ConfigKey(value = "TLS on the gateway's port (SONIA_TLS).", def = "true", env = "SONIA_TLS") boolean enabled,
            @ConfigKey("PEM certificate chain (SONIA_TLS_CERT); else one issued on first start.") String cert,
            @ConfigKey("PEM private key (SONIA_TLS_KEY).") String key,
            @ConfigKey("PEM CA that clients trust (SONIA_TLS_CA).") String ca,
            @ConfigKey(value = "Extra names on the issued certificate (SONIA_TLS_HOSTNAMES).",
                       shown = "localhost, 127.0.0.1, ::1") List<String> hostnames,
            @ConfigKey(value = "Also answer plain HTTP while bound to loopback.", def = "true")
            boolean plaintextOnLoopback,
            @ConfigKey(value = "Mutual TLS between services (SONIA_TLS_MUTUAL).", def = "false") boolean mutual) {}

    /** The settings of the stack {@code config} names. */
    public static TlsSettings from(StackConfig config) {
        final Keys keys = config.section("tls", Keys.class);
        return new TlsSettings(keys.enabled(), path(config, keys.cert()), path(config, keys.key()),
                               path(config, keys.ca()), keys.hostnames() == null ? List.of() : keys.hostnames(),
                               keys.plaintextOnLoopback(), keys.mutual(), Secrets.directory(config).resolve("tls"));
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

    @Nullable
    private static Path path(StackConfig config, @Nullable String value) {
        return value == null || value.isBlank() ? null : config.home().resolve(value.trim());
    }
}
