package ai.sonia.runtime.auth;

import static java.util.Objects.requireNonNull;

import java.util.function.Function;
import java.util.function.Predicate;

import com.linecorp.armeria.common.annotation.Nullable;

import ai.sonia.runtime.StackConfig;

/**
 * Turns a bearer credential into a {@link Principal}: a user's access token, a service credential, or (where
 * the service keeps them: the gateway) an API key. Anything else is an {@link AuthenticationException}.
 */
public final class Authenticator {

    /** How every API key begins, so it is told from a JWT without a lookup (and spotted by secret scanners). */
    public static final String API_KEY_PREFIX = "sonia_sk_";

    private final AccessTokens accessTokens;
    private final ServiceCredentials serviceCredentials;
    @Nullable
    private final Function<String, Principal> apiKeys;
    private final Predicate<String> revokedSession;

    private Authenticator(AccessTokens accessTokens, ServiceCredentials serviceCredentials,
                          @Nullable Function<String, Principal> apiKeys, Predicate<String> revokedSession) {
        this.accessTokens = requireNonNull(accessTokens, "accessTokens");
        this.serviceCredentials = requireNonNull(serviceCredentials, "serviceCredentials");
        this.apiKeys = apiKeys;
        this.revokedSession = requireNonNull(revokedSession, "revokedSession");
    }

    /** Verifies tokens with the keys of the stack {@code config} names, refusing logged-out sessions. */
    public static Authenticator of(StackConfig config) {
        return new Authenticator(AccessTokens.of(config), ServiceCredentials.of(config), null, RevocationList.of(config));
    }

    /** The same, also resolving API keys (the resolver throws {@link AuthenticationException} for an unknown key). */
    public Authenticator withApiKeys(Function<String, Principal> apiKeys) {
        return new Authenticator(accessTokens, serviceCredentials, apiKeys, revokedSession);
    }

    /** The principal a bearer credential proves. */
    public Principal authenticate(String bearer) {
        if (bearer.isEmpty()) {
            throw new AuthenticationException("empty credential");
        }
        if (bearer.startsWith(API_KEY_PREFIX)) {
            if (apiKeys == null) {
                throw new AuthenticationException(
                        "API keys are accepted by the gateway; exchange one for an access token at POST /api/auth/token");
            }
            return apiKeys.apply(bearer);
        }
        final String type = Tokens.peekType(bearer);
        if (ServiceCredentials.TYPE.equals(type)) {
            return serviceCredentials.verify(bearer);
        }
        if (!AccessTokens.TYPE.equals(type)) {
            throw new AuthenticationException("not a Sonia token");
        }
        final AccessTokens.Verified verified = accessTokens.verify(bearer);
        if (revokedSession.test(verified.sessionId())) {
            throw new AuthenticationException("token revoked: its session was logged out");
        }
        return verified.principal();
    }
}
