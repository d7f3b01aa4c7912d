package ai.sonia.runtime.tls;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.Date;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import ai.sonia.runtime.OwnerOnlyFiles;
import ai.sonia.runtime.auth.Secrets;

/**
 * The stack's own certificate authority, made on first start: {@code ca.pem}/{@code ca.key} (EC P-256, ten
 * years) and {@code server.pem}/{@code server.key}, a certificate for {@code localhost}, 127.0.0.1, ::1 and the
 * configured host names, for both server and client authentication (so services can show it to each other in
 * mutual TLS), signed by the CA. Everything lives owner-only in one directory ({@code $SONIA_HOME/secrets/tls});
 * the leaf is re-issued when it nears its end or lacks a configured name. Clients trust {@code ca.pem}:
 * {@code curl --cacert $SONIA_HOME/secrets/tls/ca.pem https://localhost:7000/healthz}.
 */
public final class LocalCa {

    private static final Logger logger = LoggerFactory.getLogger(LocalCa.class);
    private static final SecureRandom random = new SecureRandom();
    private static final Duration CA_VALIDITY = Duration.ofDays(3650);
    /** The longest validity browsers accept for a server certificate. */
    private static final Duration LEAF_VALIDITY = Duration.ofDays(397);
    private static final Duration RENEW_BEFORE = Duration.ofDays(30);
    private static final List<String> LOOPBACK = List.of("localhost", "127.0.0.1", "::1");

    /** Loads the CA and the leaf from {@code directory}, creating or renewing what is missing or stale. */
    public static synchronized TlsMaterial ensure(Path directory, Collection<String> hostnames) {
        final Set<String> names = new LinkedHashSet<>(LOOPBACK);
        names.addAll(hostnames);
        try {
            Secrets.createOwnerOnlyDirectory(directory);
            // Several processes of one stack may start at once: one issues, the others read.
            try (FileChannel lockFile = FileChannel.open(OwnerOnlyFiles.file(directory.resolve(".lock")),
                                                         StandardOpenOption.WRITE);
                 FileLock ignored = lockFile.lock()) {
                return ensureLocked(directory, names);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("tls: cannot read or create the local CA in " + directory, e);
        } catch (GeneralSecurityException | OperatorCreationException e) {
            throw new IllegalStateException("tls: cannot issue a certificate: " + e.getMessage(), e);
        }
    }

    private static TlsMaterial ensureLocked(Path dir, Set<String> names)
            throws IOException, GeneralSecurityException, OperatorCreationException {
        final Path caCert = dir.resolve("ca.pem");
        final Path caKey = dir.resolve("ca.key");
        final Path cert = dir.resolve("server.pem");
        final Path key = dir.resolve("server.key");
        if (!Files.exists(caCert) || !Files.exists(caKey)) {
            final KeyPair pair = newKeyPair();
            final X500Name subject = new X500Name("CN=Sonia local CA " + new BigInteger(32, random).toString(16));
            final X509Certificate ca = sign(new JcaX509v3CertificateBuilder(
                    subject, serial(), Date.from(Instant.now().minus(Duration.ofHours(1))),
                    Date.from(Instant.now().plus(CA_VALIDITY)), subject, pair.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
                    .addExtension(Extension.subjectKeyIdentifier, false,
                                  new JcaX509ExtensionUtils().createSubjectKeyIdentifier(pair.getPublic())),
                    pair.getPrivate());
            OwnerOnlyFiles.writeAtomically(caKey, pem("PRIVATE KEY", pair.getPrivate().getEncoded()));
            OwnerOnlyFiles.writeAtomically(caCert, pem("CERTIFICATE", ca.getEncoded()));
            Files.deleteIfExists(cert); // a new CA invalidates the old leaf
            logger.info("TLS: created a local CA in {} (SHA-256 {})", caCert, TlsMaterial.fingerprint(ca));
        }
        final X509Certificate ca = TlsMaterial.readCertificates(caCert).get(0);
        if (Files.exists(cert) && Files.exists(key)) {
            final X509Certificate leaf = TlsMaterial.readCertificates(cert).get(0);
            if (stillGood(leaf, ca, names)) {
                return new TlsMaterial(cert, key, caCert, leaf, true);
            }
        }
        final PrivateKey caPrivate = KeyFactory.getInstance("EC").generatePrivate(
                new PKCS8EncodedKeySpec(unpem(Files.readString(caKey, StandardCharsets.US_ASCII))));
        final KeyPair pair = newKeyPair();
        final List<GeneralName> sans = new ArrayList<>();
        for (String name : names) {
            sans.add(isIpAddress(name) ? new GeneralName(GeneralName.iPAddress, name)
                                       : new GeneralName(GeneralName.dNSName, name));
        }
        final JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
        final X509Certificate leaf = sign(new JcaX509v3CertificateBuilder(
                ca, serial(), Date.from(Instant.now().minus(Duration.ofHours(1))),
                Date.from(Instant.now().plus(LEAF_VALIDITY)), new X500Name("CN=localhost"), pair.getPublic())
                .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
                .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(
                        new KeyPurposeId[] { KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth }))
                .addExtension(Extension.subjectAlternativeName, false,
                              new GeneralNames(sans.toArray(GeneralName[]::new)))
                .addExtension(Extension.authorityKeyIdentifier, false, utils.createAuthorityKeyIdentifier(ca)),
                caPrivate);
        OwnerOnlyFiles.writeAtomically(key, pem("PRIVATE KEY", pair.getPrivate().getEncoded()));
        // The chain a server sends: the leaf, then its CA.
        OwnerOnlyFiles.writeAtomically(cert, pem("CERTIFICATE", leaf.getEncoded()) + pem("CERTIFICATE", ca.getEncoded()));
        logger.info("TLS: issued a certificate for {} in {} (SHA-256 {})", names, cert, TlsMaterial.fingerprint(leaf));
        return new TlsMaterial(cert, key, caCert, leaf, true);
    }

    private static boolean stillGood(X509Certificate leaf, X509Certificate ca, Set<String> names) {
        try {
            leaf.verify(ca.getPublicKey());
            leaf.checkValidity(Date.from(Instant.now().plus(RENEW_BEFORE)));
            final Set<String> present = new LinkedHashSet<>();
            final Collection<List<?>> sans = leaf.getSubjectAlternativeNames();
            if (sans != null) {
                sans.forEach(san -> present.add(normalize(String.valueOf(san.get(1)))));
            }
            return names.stream().map(LocalCa::normalize).allMatch(present::contains);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    private static String normalize(String name) {
        if (isIpAddress(name)) {
            try {
                return InetAddress.getByName(name).getHostAddress();
            } catch (IOException e) {
                return name;
            }
        }
        return name;
    }

    private static boolean isIpAddress(String name) {
        return name.indexOf(':') >= 0 || name.matches("[0-9.]+");
    }

    private static KeyPair newKeyPair() throws GeneralSecurityException {
        final KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"), random);
        return generator.generateKeyPair();
    }

    private static BigInteger serial() {
        return new BigInteger(127, random).add(BigInteger.ONE);
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey issuerKey)
            throws OperatorCreationException, GeneralSecurityException {
        return new JcaX509CertificateConverter().getCertificate(
                builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(issuerKey)));
    }

    static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n"
               + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
               + "\n-----END " + type + "-----\n";
    }

    /** The DER bytes of a one-object PEM text. */
    static byte[] unpem(String pem) {
        return Base64.getMimeDecoder().decode(pem.replaceAll("-----[A-Z ]+-----", ""));
    }

    private LocalCa() {}
}
