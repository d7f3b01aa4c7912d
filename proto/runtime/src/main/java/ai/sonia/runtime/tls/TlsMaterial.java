package ai.sonia.runtime.tls;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;

import com.linecorp.armeria.common.annotation.Nullable;

/**
 * What a service serves TLS with: a PEM certificate chain and key, and the PEM certificates its callers
 * trust ({@code null}: the JDK's default trust, for a certificate of a public CA).
 */
public record TlsMaterial(Path certChain, Path key, @Nullable Path trust, X509Certificate leaf, boolean generated) {

    static TlsMaterial configured(Path certChain, Path key, @Nullable Path trust) {
        for (Path file : trust == null ? List.of(certChain, key) : List.of(certChain, key, trust)) {
            if (!Files.isReadable(file)) {
                throw new IllegalArgumentException("tls: cannot read " + file);
            }
        }
        return new TlsMaterial(certChain, key, trust, readCertificates(certChain).get(0), false);
    }

    /** The SHA-256 fingerprint of the served certificate, as browsers and {@code openssl x509 -fingerprint} show it. */
    public String fingerprint() {
        return fingerprint(leaf);
    }

    /** {@code AB:CD:...}: the SHA-256 of a certificate's DER encoding. */
    public static String fingerprint(X509Certificate certificate) {
        try {
            final byte[] digest = MessageDigest.getInstance("SHA-256").digest(certificate.getEncoded());
            return HexFormat.ofDelimiter(":").formatHex(digest).toUpperCase(Locale.ROOT);
        } catch (NoSuchAlgorithmException | CertificateEncodingException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The key and certificate chain to serve. A PKCS#8 key ({@code BEGIN PRIVATE KEY}, what {@link LocalCa}
     * writes) is read with the JDK's own key factories; any other key file is read by Netty as before (with
     * BouncyCastle, when on the classpath). Netty's reader loads BouncyCastle's provider even for a PKCS#8 key:
     * ~690 classes of a signed jar, which the class-data-sharing archive skips (docs/benchmarks/startup.md).
     */
    public com.linecorp.armeria.common.TlsKeyPair keyPair() {
        final String pem;
        try {
            pem = Files.readString(key, java.nio.charset.StandardCharsets.US_ASCII).strip();
        } catch (IOException e) {
            throw new UncheckedIOException("tls: cannot read " + key, e);
        }
        final String begin = "-----BEGIN PRIVATE KEY-----";
        final String end = "-----END PRIVATE KEY-----";
        if (pem.startsWith(begin) && pem.endsWith(end) && pem.indexOf(begin, 1) < 0) {
            final java.security.spec.PKCS8EncodedKeySpec spec = new java.security.spec.PKCS8EncodedKeySpec(LocalCa.unpem(pem));
            for (String algorithm : List.of("EC", "RSA", "Ed25519")) {
                try {
                    return com.linecorp.armeria.common.TlsKeyPair.of(
                            java.security.KeyFactory.getInstance(algorithm).generatePrivate(spec),
                            readCertificates(certChain));
                } catch (java.security.GeneralSecurityException e) {
                    // not this algorithm: the next one, else Netty's reader below
                }
            }
        }
        return com.linecorp.armeria.common.TlsKeyPair.of(key.toFile(), certChain.toFile()); // key first
    }

    /** The certificates of a PEM file, leaf first. */
    static List<X509Certificate> readCertificates(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            final List<X509Certificate> certificates =
                    CertificateFactory.getInstance("X.509").generateCertificates(in).stream()
                                      .map(X509Certificate.class::cast).toList();
            if (certificates.isEmpty()) {
                throw new IllegalArgumentException("tls: no certificate in " + file);
            }
            return certificates;
        } catch (IOException e) {
            throw new UncheckedIOException("tls: cannot read " + file, e);
        } catch (CertificateException e) {
            throw new IllegalArgumentException("tls: " + file + " is not a PEM certificate: " + e.getMessage(), e);
        }
    }
}
