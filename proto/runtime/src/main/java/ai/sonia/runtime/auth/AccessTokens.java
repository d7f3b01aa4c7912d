package ai.sonia.runtime.auth;

import java.text.ParseException;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Set;

import com.nimbusds.jwt.JWTClaimsSet;

import ai.sonia.runtime.StackConfig;

/**
 * Users' access tokens: short-lived JWTs ({@code typ: at+jwt}, RFC 9068) that every service verifies on its
 * own, carrying the user's tenant, role and login session ({@code sid}), so logout can revoke them.
 */
public final class AccessTokens {

    /** The {@code aud} of access tokens. */
    public static final String AUDIENCE = "sonia-api";
    static final String TYPE = "at+jwt";

    private final Tokens tokens;

    /**
     * A token whose claims were checked.
     *
     * @param owner the user the token derives from: the user itself, or the owner of the API key it was
     *              exchanged for; empty when unknown (a key token issued before owners were recorded)
     * @param issuedAtMs when it was issued, to the millisecond, so a change of its owner a moment later
     *                   revokes it exactly
     */
    public record Verified(Principal principal, String owner, String sessionId, String tokenId, long issuedAtMs,
                           Instant expiresAt) {}

    public AccessTokens(byte[] key) {
        tokens = new Tokens(key, TYPE, AUDIENCE, Set.of("tenant", "role", "sid"));
    }

    /** The access tokens of the stack whose home {@code config} names. */
    public static AccessTokens of(StackConfig config) {
        return new AccessTokens(Secrets.accessTokenKey(config));
    }

    /** An access token of a user, part of login session {@code sessionId}. */
    public String issue(Principal principal, String sessionId, Duration ttl) {
        return issue(principal, principal.kind() == Principal.Kind.USER ? principal.subject() : "", sessionId, ttl);
    }

    /**
     * An access token for a user or API key, part of login session {@code sessionId}, derived from user
     * {@code owner} (the user itself, or the API key's owner), so that changing that user revokes it.
     */
    public String issue(Principal principal, String owner, String sessionId, Duration ttl) {
        if (principal.isService()) {
            throw new IllegalArgumentException("services prove themselves with service credentials");
        }
        return tokens.sign(principal.subject(), Map.of("tenant", principal.tenant(),
                                                       "role", Roles.name(principal.role()),
                                                       "kind", principal.kind().name().toLowerCase(java.util.Locale.ROOT),
                                                       "sid", sessionId,
                                                       "owner", owner,
                                                       "iat_ms", System.currentTimeMillis()), ttl);
    }

    /** The principal of a valid token; {@link AuthenticationException} otherwise. */
    public Verified verify(String token) {
        final JWTClaimsSet claims = tokens.verify(token);
        try {
            final String kind = claims.getStringClaim("kind");
            final Principal principal = new Principal(
                    "api_key".equals(kind) ? Principal.Kind.API_KEY : Principal.Kind.USER,
                    claims.getStringClaim("tenant"), claims.getSubject(),
                    Roles.parse(claims.getStringClaim("role")), "");
            final String owner = claims.getStringClaim("owner");
            final Long issuedAtMs = claims.getLongClaim("iat_ms");
            return new Verified(principal,
                                owner != null ? owner
                                              : principal.kind() == Principal.Kind.USER ? principal.subject() : "",
                                claims.getStringClaim("sid"), claims.getJWTID(),
                                // Without the precise time, the start of its second: a change later in that second revokes it.
                                issuedAtMs != null ? issuedAtMs : claims.getIssueTime().getTime(),
                                claims.getExpirationTime().toInstant());
        } catch (ParseException | IllegalArgumentException | NullPointerException e) {
            throw new AuthenticationException("invalid token claims");
        }
    }
}
