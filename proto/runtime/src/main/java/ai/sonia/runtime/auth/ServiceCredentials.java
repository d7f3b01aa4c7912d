package ai.sonia.runtime.auth;

import java.text.ParseException;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

import com.nimbusds.jwt.JWTClaimsSet;

import ai.sonia.runtime.StackConfig;

/**
 * The credentials Sonia services show each other: JWTs ({@code typ: sonia-svc+jwt}, audience
 * {@code sonia-internal}) signed with the service key, valid for a minute. A service acting for a user
 * names the user as the subject and itself as the actor ({@code act}, as in RFC 8693), so the user's tenant
 * and role travel signed; a service acting for itself is the subject {@code service:<name>}.
 */
public final class ServiceCredentials {

    /** The {@code aud} of service credentials. */
    public static final String AUDIENCE = "sonia-internal";
    static final String TYPE = "sonia-svc+jwt";
    static final Duration TTL = Duration.ofSeconds(60);
    private static final String SERVICE_PREFIX = "service:";

    private final Tokens tokens;

    public ServiceCredentials(byte[] key) {
        tokens = new Tokens(key, TYPE, AUDIENCE, Set.of("act"));
    }

    /** The service credentials of the stack whose home {@code config} names. */
    public static ServiceCredentials of(StackConfig config) {
        return new ServiceCredentials(Secrets.serviceKey(config));
    }

    /** A credential of {@code service}, acting for {@code principal} (or for itself when it is a service). */
    public String issue(String service, Principal principal) {
        final Map<String, Object> claims = new HashMap<>();
        claims.put("act", Map.of("sub", service));
        if (principal.isService()) {
            return tokens.sign(SERVICE_PREFIX + service, claims, TTL);
        }
        claims.put("tenant", principal.tenant());
        claims.put("role", Roles.name(principal.role()));
        claims.put("kind", principal.kind().name().toLowerCase(java.util.Locale.ROOT));
        return tokens.sign(principal.subject(), claims, TTL);
    }

    /** The principal a valid credential speaks for; {@link AuthenticationException} otherwise. */
    public Principal verify(String token) {
        final JWTClaimsSet claims = tokens.verify(token);
        try {
            final Object actor = claims.getJSONObjectClaim("act").get("sub");
            if (!(actor instanceof String service) || service.isEmpty()) {
                throw new AuthenticationException("invalid service credential: no actor");
            }
            if (claims.getSubject().startsWith(SERVICE_PREFIX)) {
                return Principal.service(service);
            }
            final Principal.Kind kind = "api_key".equals(claims.getStringClaim("kind")) ? Principal.Kind.API_KEY
                                                                                       : Principal.Kind.USER;
            return new Principal(kind, claims.getStringClaim("tenant"), claims.getSubject(),
                                 Roles.parse(claims.getStringClaim("role")), service);
        } catch (ParseException | IllegalArgumentException | NullPointerException e) {
            throw new AuthenticationException("invalid service credential claims");
        }
    }
}
