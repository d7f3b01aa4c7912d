package ai.sonia.runtime.auth;

import java.text.ParseException;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.jwk.source.ImmutableSecret;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jose.proc.DefaultJOSEObjectTypeVerifier;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;

/**
 * Signed JWTs of one kind (RFC 7519), made and checked as RFC 8725 asks: one algorithm pinned (HS256 with a
 * 256-bit key), an explicit {@code typ} so one kind of token is never accepted as another, and {@code iss},
 * {@code aud}, {@code exp}, {@code iat} and {@code jti} required. Unsigned ({@code alg: none}) tokens, other
 * algorithms, other keys, other audiences and expired tokens are all rejected.
 */
final class Tokens {

    static final String ISSUER = "sonia";
    /** Bound of {@link #verified}: emptied when full (a burst of distinct tokens costs one re-check each). */
    private static final int VERIFIED_MAX = 4096;
    /** The encoded headers of Sonia's own tokens seen so far (a handful: one per kind), with their {@code typ}. */
    private static final Map<String, String> SONIA_HEADERS = new ConcurrentHashMap<>();
    private static final int SONIA_HEADERS_MAX = 64;

    private final JOSEObjectType type;
    private final String audience;
    private final MACSigner signer;
    private final DefaultJWTProcessor<SecurityContext> processor = new DefaultJWTProcessor<>();
    /**
     * Tokens already verified, by their exact text, until they expire: the same bearer on every call of a
     * session is checked (signature, type, claims) once. A hit is only taken before {@code exp} (stricter
     * than the verifier's clock skew, which a later full check still applies); revocation is not cached
     * (its callers check it on every call).
     */
    private final Map<String, JWTClaimsSet> verified = new ConcurrentHashMap<>();

    Tokens(byte[] key, String type, String audience, Set<String> requiredClaims) {
        this.type = new JOSEObjectType(type);
        this.audience = audience;
        try {
            signer = new MACSigner(key);
        } catch (JOSEException e) {
            throw new IllegalArgumentException("signing key: " + e.getMessage(), e);
        }
        processor.setJWSTypeVerifier(new DefaultJOSEObjectTypeVerifier<>(this.type));
        processor.setJWSKeySelector(new JWSVerificationKeySelector<>(JWSAlgorithm.HS256, new ImmutableSecret<>(key)));
        final Set<String> required = new java.util.HashSet<>(requiredClaims);
        required.addAll(Set.of("sub", "exp", "iat", "jti"));
        processor.setJWTClaimsSetVerifier(new DefaultJWTClaimsVerifier<>(
                audience, new JWTClaimsSet.Builder().issuer(ISSUER).build(), required));
    }

    /** Signs a token for {@code subject} with the given claims, valid for {@code ttl}. */
    String sign(String subject, Map<String, Object> claims, Duration ttl) {
        final Instant now = Instant.now();
        final JWTClaimsSet.Builder set = new JWTClaimsSet.Builder()
                .issuer(ISSUER).audience(audience).subject(subject)
                .issueTime(Date.from(now)).expirationTime(Date.from(now.plus(ttl)))
                .jwtID(UUID.randomUUID().toString());
        claims.forEach(set::claim);
        final SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256).type(type).build(), set.build());
        try {
            jwt.sign(signer);
        } catch (JOSEException e) {
            throw new IllegalStateException("cannot sign a token", e);
        }
        return jwt.serialize();
    }

    /** The claims of a valid token; {@link AuthenticationException} saying why otherwise. */
    JWTClaimsSet verify(String token) {
        final JWTClaimsSet known = verified.get(token);
        if (known != null && known.getExpirationTime().getTime() > System.currentTimeMillis()) {
            return known;
        }
        try {
            final JWTClaimsSet claims = processor.process(token, null);
            if (verified.size() >= VERIFIED_MAX) {
                verified.clear();
            }
            verified.put(token, claims);
            return claims;
        } catch (ParseException e) {
            throw new AuthenticationException("malformed token");
        } catch (BadJOSEException | JOSEException e) {
            throw new AuthenticationException("invalid token: " + e.getMessage());
        }
    }

    /** The {@code typ} of a token's header, without verifying anything, to pick its verifier; null if none. */
    static String peekType(String token) {
        final int dot = token.indexOf('.');
        final String header = dot > 0 ? token.substring(0, dot) : null;
        final String known = header == null ? null : SONIA_HEADERS.get(header);
        if (known != null) {
            return known; // the rest of the token is parsed, and refused if malformed, by its verifier
        }
        final String type;
        try {
            final JOSEObjectType peeked = com.nimbusds.jose.JOSEObject.parse(token).getHeader().getType();
            type = peeked == null ? null : peeked.getType();
        } catch (ParseException e) {
            throw new AuthenticationException("malformed token");
        }
        if (header != null && (AccessTokens.TYPE.equals(type) || ServiceCredentials.TYPE.equals(type))
            && SONIA_HEADERS.size() < SONIA_HEADERS_MAX) {
            SONIA_HEADERS.put(header, type);
        }
        return type;
    }
}
