package ai.sonia.runtime.tls;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.Set;

import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.linecorp.armeria.common.HttpHeaders;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.SessionProtocol;
import com.linecorp.armeria.common.annotation.Nullable;
import com.linecorp.armeria.server.DecoratingHttpServiceFunction;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServerBuilder;
import com.linecorp.armeria.server.ServiceRequestContext;

import ai.sonia.runtime.ServiceSpec;
import ai.sonia.runtime.Stack;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.edge.EdgeReplies;
import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.Status;
import io.grpc.TlsChannelCredentials;
import io.netty.handler.ssl.ClientAuth;

/**
 * Puts a service's port on TLS as {@link TlsSettings} say, and gives callers the matching channel credentials.
 * With mutual TLS, every service but the gateway (whose callers are people and browsers) refuses a TLS request
 * that shows no certificate of the stack's CA, but for the probes an orchestrator calls without one.
 */
public final class ServerTls {

    private static final Logger logger = LoggerFactory.getLogger(ServerTls.class);
    private static final Set<String> PROBES = Set.of("/healthz", "/livez", "/readyz", "/health", "/ready");

    /**
     * Listens on {@code address} for {@code spec}: TLS (and plain HTTP on loopback) when the service serves TLS,
     * else plain HTTP. Returns what it serves TLS with, or {@code null}.
     */
    @Nullable
    public static TlsMaterial listen(ServerBuilder sb, InetSocketAddress address, ServiceSpec spec,
                                     StackConfig config) {
        final TlsSettings settings = TlsSettings.from(config);
        if (!settings.serves(spec)) {
            sb.http(address);
            return null;
        }
        final TlsMaterial material = settings.material();
        sb.tls(material.keyPair());
        final boolean plaintext = settings.plaintextOn(config.bindAddress());
        if (plaintext) {
            sb.port(address, SessionProtocol.HTTP, SessionProtocol.HTTPS); // one port: Armeria tells them apart
        } else {
            sb.https(address);
        }
        if (settings.mutual()) {
            if (material.trust() == null) {
                throw new IllegalArgumentException("tls: \"mutual\" needs \"ca\", the CA that signs services' certificates");
            }
            sb.tlsCustomizer(b -> b.clientAuth(ClientAuth.OPTIONAL).trustManager(material.trust().toFile()));
        }
        logger.atInfo().addKeyValue("tls_sha256", material.fingerprint())
              .log("TLS: {} serves {}{} with the certificate {} (SHA-256 {}){}", spec.name(),
                   plaintext ? "HTTPS and, on loopback, plain HTTP" : "HTTPS only",
                   settings.mutual() ? ", asking callers for certificates (mutual TLS)" : "",
                   material.leaf().getSubjectX500Principal().getName(), material.fingerprint(),
                   material.trust() != null ? "; callers trust " + material.trust() : "");
        return material;
    }

    /** The credentials of a channel to {@code spec}: TLS with the stack's trust (and certificate, if mutual). */
    public static ChannelCredentials channelCredentials(StackConfig config, ServiceSpec spec) {
        final TlsSettings settings = TlsSettings.from(config);
        if (!settings.serves(spec)) {
            return InsecureChannelCredentials.create();
        }
        // A caller that only trusts (a configured CA, no mutual TLS) needs no certificate of its own.
        final TlsMaterial own = settings.mutual() || settings.ca() == null ? settings.material() : null;
        final java.nio.file.Path trust = settings.ca() != null ? settings.ca() : own.trust();
        try {
            final TlsChannelCredentials.Builder tls = TlsChannelCredentials.newBuilder();
            if (trust != null) {
                tls.trustManager(trust.toFile()); // else the JDK's default trust: a certificate of a public CA
            }
            if (own != null && settings.mutual()) {
                tls.keyManager(own.certChain().toFile(), own.key().toFile());
            }
            return tls.build();
        } catch (IOException e) {
            throw new UncheckedIOException("tls: cannot read the trusted CA " + trust + " or this service's certificate", e);
        }
    }

    /**
     * With mutual TLS, the check that a TLS caller of {@code spec} showed a certificate of the stack's CA (the
     * handshake verified it), to wrap around everything but correlation; {@code null} otherwise.
     */
    @Nullable
    public static DecoratingHttpServiceFunction peerCertificateCheck(ServiceSpec spec, StackConfig config) {
        final TlsSettings settings = TlsSettings.from(config);
        if (!settings.mutual() || Stack.GATEWAY.name().equals(spec.name())) {
            return null;
        }
        final String service = spec.name();
        return (HttpService delegate, ServiceRequestContext ctx, HttpRequest req) -> {
            final SSLSession session = ctx.sslSession();
            if (session == null || PROBES.contains(ctx.path())) {
                return delegate.serve(ctx, req); // plain HTTP reaches only a loopback-bound port
            }
            try {
                session.getPeerCertificates();
                return delegate.serve(ctx, req);
            } catch (SSLPeerUnverifiedException e) {
                return EdgeReplies.refuse(ctx, req, service, Status.UNAUTHENTICATED
                        .withDescription("mutual TLS: present a client certificate of the stack's CA")
                        .asRuntimeException(), HttpHeaders.of());
            }
        };
    }

    private ServerTls() {}
}
