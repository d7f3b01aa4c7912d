package ai.sonia.runtime.auth;

import static java.util.Objects.requireNonNull;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

import com.linecorp.armeria.common.CommonPools;
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
    private final RevocationList revocations;

    private Authenticator(AccessTokens accessTokens, ServiceCredentials serviceCredentials,
                          @Nullable Function<String, Principal> apiKeys, RevocationList revocations) {
        this.accessTokens = requireNonNull(accessTokens, "accessTokens");
        this.serviceCredentials = requireNonNull(serviceCredentials, "serviceCredentials");
        this.apiKeys = apiKeys;
        this.revocations = requireNonNull(revocations, "revocations");
    }

    /** Verifies tokens with the keys of the stack {@code config} names, refusing revoked ones (see {@link RevocationList}). */
    public static Authenticator of(StackConfig config) {
        return new Authenticator(AccessTokens.of(config), ServiceCredentials.of(config), null, RevocationList.of(config));
    }

    /** The same, also resolving API keys (the resolver throws {@link AuthenticationException} for an unknown key). */
    public Authenticator withApiKeys(Function<String, Principal> apiKeys) {
        return new Authenticator(accessTokens, serviceCredentials, apiKeys, revocations);
    }

    /**
     * A check of whether a credential that proved {@code principal} was since revoked: its session logged out,
     * its API key deleted, its user disabled, deleted or given another role. Expiry alone does not count: a
     * connection opened with a valid token may outlive it. Costs nothing until first asked.
     */
    public BooleanSupplier notRevoked(String bearer, Principal principal) {
        if (bearer.startsWith(API_KEY_PREFIX)) {
            // The key is looked up in the account store: on a blocking thread, never on the event loop that asks (an
            // open stream's watch); the answer is the last check's, one check behind at most.
            final AtomicBoolean valid = new AtomicBoolean(true);
            final AtomicBoolean checking = new AtomicBoolean();
            return () -> {
                if (checking.compareAndSet(false, true)) {
                    CommonPools.blockingTaskExecutor().execute(() -> {
                        try {
                            valid.set(apiKeys != null && apiKeys.apply(bearer).role() == principal.role());
                        } catch (AuthenticationException e) {
                            valid.set(false);
                        } catch (RuntimeException e) {
                            // The store cannot answer now: no verdict; checked again next time.
                        } finally {
                            checking.set(false);
                        }
                    });
                }
                return valid.get();
            };
        }
        if (principal.isService()) {
            return () -> true;
        }
        final AtomicReference<AccessTokens.Verified> verified = new AtomicReference<>();
        return () -> {
            try {
                if (verified.get() == null) {
                    verified.set(accessTokens.verify(bearer));
                }
                return revocations.admit(verified.get()).role() == principal.role();
            } catch (AuthenticationException e) {
                return verified.get() == null; // expired before the first check: not a revocation
            } catch (RevocationListUnavailableException e) {
                // Cannot be told now (new requests are refused meanwhile): the open stream is checked again at the
                // next period, and ends then if its credential was revoked.
                return true;
            }
        };
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
        // Refused when its session, API key or user was revoked; its role no higher than its user's now.
        return revocations.admit(accessTokens.verify(bearer));
    }
}
