package ai.sonia.gateway.domain;

import java.time.Clock;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

import ai.sonia.common.v1.ErrorCode;
import ai.sonia.common.v1.Role;
import ai.sonia.gateway.v1.AuditEventKind;
import ai.sonia.gateway.v1.AuthTokens;
import ai.sonia.gateway.v1.Identity;
import ai.sonia.gateway.v1.PrincipalKind;
import ai.sonia.gateway.v1.RegisterRequest;
import ai.sonia.gateway.v1.User;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.auth.AccessTokens;
import ai.sonia.runtime.auth.AuthenticationException;
import ai.sonia.runtime.auth.Authenticator;
import ai.sonia.runtime.auth.Principal;
import ai.sonia.runtime.auth.RevocationList;
import ai.sonia.runtime.auth.Roles;
import ai.sonia.runtime.errors.DomainException;
import ai.sonia.runtime.limits.RateLimiter;
import ai.sonia.runtime.paging.PageTokens;

/**
 * Registration, login, refresh-token rotation, logout and the API key exchange. A login starts a session
 * ({@code sid} in every access token it yields) with a chain of single-use refresh tokens; presenting a used
 * one again means it was stolen or replayed, so the whole session is revoked.
 */
public final class Accounts {

    private static final Pattern USERNAME = Pattern.compile("[A-Za-z0-9._-]{3,64}");
    private static final Duration REQUEST_ID_TTL = Duration.ofHours(24);
    private static final int DEFAULT_PAGE_SIZE = 100;
    private static final int MAX_PAGE_SIZE = 1000;

    final AccountStore store;
    final Passwords passwords;
    final Revocations revocations;
    final AuthSettings settings;
    final Clock clock;
    final AuditTrail audit;
    final CurrentRequest request;
    private final AccessTokens accessTokens;
    private final LoginThrottle throttle;
    private final ApiKeys apiKeys;

    public Accounts(AccountStore store, AuditLog auditLog, AuthSettings settings, AccessTokens accessTokens,
                    Clock clock, RevocationList shared, RateLimiter limiter, CurrentRequest request) {
        this.store = store;
        this.settings = settings;
        this.accessTokens = accessTokens;
        this.clock = clock;
        this.request = request;
        passwords = new Passwords(settings.bcryptCost(), request);
        revocations = new Revocations(shared, settings, clock);
        throttle = new LoginThrottle(settings, limiter);
        apiKeys = new ApiKeys(this);
        audit = new AuditTrail(this, auditLog);
    }

    /** The stack's authenticator, also knowing API keys (logged-out sessions it reads from the shared list). */
    public Authenticator authenticator(StackConfig config) {
        return Authenticator.of(config).withApiKeys(apiKeys::resolve);
    }

    public ApiKeys apiKeys() {
        return apiKeys;
    }

    public UserDirectory users() {
        return new UserDirectory(this);
    }

    public AuditTrail audit() {
        return audit;
    }

    public AuthSettings settings() {
        return settings;
    }

    /** The page size of the accounts' lists: 100 for 0; INVALID_ARGUMENT outside 0..1000, as the contract says. */
    static int pageSize(int requested) {
        if (requested > MAX_PAGE_SIZE) {
            throw DomainException.invalidArgument("page_size", requested + " (expected: 0.." + MAX_PAGE_SIZE + ')');
        }
        return PageTokens.pageSize(requested, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
    }

    /** Creates a user (see the contract's Register for who may). */
    public User register(RegisterRequest request, Principal caller) {
        final boolean byAdmin = caller != null && caller.kind() == Principal.Kind.USER && caller.isAdmin();
        if (!settings.openRegistration() || caller != null && !byAdmin) {
            if (caller == null) {
                throw Access.unauthenticated("registration needs an admin's credential (registration mode: admin)");
            }
            if (!byAdmin) {
                throw DomainException.permissionDenied("registering users needs the admin role");
            }
        }
        if (!byAdmin && request.getRole() != Role.ROLE_UNSPECIFIED && request.getRole() != Role.ROLE_USER) {
            throw DomainException.permissionDenied("only an admin sets a role");
        }
        final String requester = caller == null ? "address:" + this.request.clientAddress()
                                                : caller.tenant() + '/' + caller.subject();
        final User earlier = retried(requester, "Register", request.getRequestId())
                .flatMap(store::user).map(AccountProtos::user).orElse(null);
        if (earlier != null) {
            return earlier;
        }
        if (!byAdmin) {
            final long wait = throttle.signUp("ip:" + this.request.clientAddress());
            if (wait > 0) {
                throw retryLater("too many sign-ups from this address", "registrations_per_address", wait);
            }
        }
        // An open registration gets a tenant of its own, so strangers never share data.
        final String tenant = byAdmin ? caller.tenant() : Tokens.id("t_");
        final Role role = request.getRole() == Role.ROLE_UNSPECIFIED ? Role.ROLE_USER : request.getRole();
        final AccountStore.UserRow user = create(tenant, request.getUsername(), request.getPassword(),
                                                 request.getDisplayName(), role);
        remember(requester, "Register", request.getRequestId(), user.id());
        audit.record(AuditEventKind.AUDIT_EVENT_KIND_USER_REGISTER, true, tenant, user.id(), user.username(),
                     Roles.name(role));
        return AccountProtos.user(user);
    }

    /**
     * What an earlier create of {@code requester} with this request id made (AIP-155), within the last
     * {@link #REQUEST_ID_TTL}; empty for no request id.
     */
    Optional<String> retried(String requester, String method, String requestId) {
        if (requestId.isEmpty()) {
            return Optional.empty();
        }
        if (requestId.length() > 100) {
            throw DomainException.invalidArgument("request_id", "at most 100 characters");
        }
        return store.requestResult(requester, method, requestId, clock.millis() - REQUEST_ID_TTL.toMillis());
    }

    /** Remembers what a create with a request id made. */
    void remember(String requester, String method, String requestId, String resultId) {
        if (!requestId.isEmpty()) {
            final long now = clock.millis();
            store.rememberRequest(requester, method, requestId, resultId, now, now - REQUEST_ID_TTL.toMillis());
        }
    }

    /** Creates a user after validating its name and password; CONFLICT when the name is taken. */
    AccountStore.UserRow create(String tenant, String username, String password, String displayName, Role role) {
        return create(tenant, username, password, displayName, role, false);
    }

    /** The same; {@code generated}: the password is Sonia's, so the user must change it. */
    AccountStore.UserRow create(String tenant, String username, String password, String displayName, Role role,
                                boolean generated) {
        if (!USERNAME.matcher(username).matches()) {
            throw DomainException.invalidArgument("username",
                                         "3 to 64 characters: letters, digits, '.', '_' or '-'");
        }
        Passwords.validate("password", password);
        if (displayName.length() > 200) {
            throw DomainException.invalidArgument("display_name", "at most 200 characters");
        }
        final AccountStore.UserRow row = new AccountStore.UserRow(
                Tokens.id("usr_"), tenant, username, displayName.isBlank() ? username : displayName.strip(),
                passwords.hash(password), role, clock.millis(), false, generated);
        store.insertUser(row);
        return row;
    }

    /** Checks a password and starts a login session. */
    public AuthTokens login(String username, String password) {
        final String clientAddress = request.clientAddress();
        // Per (name, address) and per address, never per name alone: a guesser elsewhere cannot lock the
        // real user out (OWASP authentication cheat sheet), and one address guessing many names is slowed.
        final String userKey = "user:" + username.toLowerCase(Locale.ROOT) + '@' + clientAddress;
        final String addressKey = "ip:" + clientAddress;
        final long wait = throttle.retryAfterSeconds(userKey, addressKey);
        if (wait > 0) {
            final AccountStore.UserRow user = store.userByName(username).orElse(null);
            audit.record(AuditEventKind.AUDIT_EVENT_KIND_LOGIN, false, user == null ? "" : user.tenant(),
                         user == null ? "" : user.id(), username, "throttled: retry in " + wait + " s");
            throw retryLater("too many failed logins", "failed_logins", wait);
        }
        final long busy = throttle.attempt(addressKey);
        if (busy > 0) {
            // A valid account logging in without end would still spend a password check each time.
            throw retryLater("too many logins from this address", "logins_per_address", busy);
        }
        final AccountStore.UserRow user = store.userByName(username).orElse(null);
        final boolean verified;
        if (user == null) {
            passwords.verifyDummy(password); // the same time as a wrong password
            verified = false;
        } else {
            verified = passwords.verify(password, user.passwordHash());
        }
        if (!verified || user.disabled()) {
            throttle.failed(userKey, addressKey);
            audit.record(AuditEventKind.AUDIT_EVENT_KIND_LOGIN, false, user == null ? "" : user.tenant(),
                         user == null ? "" : user.id(), username,
                         user == null ? "unknown user" : verified ? "user disabled" : "wrong password");
            throw Access.unauthenticated("wrong username or password");
        }
        throttle.succeeded(userKey);
        audit.record(AuditEventKind.AUDIT_EVENT_KIND_LOGIN, true, user.tenant(), user.id(), user.username(), "");
        final String sessionId = Tokens.id("ses_");
        final String refresh = Tokens.random(32);
        final long now = clock.millis();
        store.insertSession(sessionId, user.id(), Tokens.sha256(refresh), now, now + settings.refreshTtl().toMillis());
        return tokens(user, sessionId, refresh);
    }

    /** RATE_LIMITED for {@code limit}, with a Retry-After of {@code seconds} on the reply. */
    private DomainException retryLater(String what, String limit, long seconds) {
        request.retryAfter(seconds);
        return DomainException.of(ErrorCode.ERROR_CODE_RATE_LIMITED, what + "; try again in " + seconds + " s",
                                  Map.of("limit", limit, "retry_after_seconds", String.valueOf(seconds)));
    }

    /** Rotates a refresh token. */
    public AuthTokens refresh(String refreshToken) {
        if (refreshToken.isEmpty()) {
            throw DomainException.invalidArgument("refresh_token", "must not be empty");
        }
        final String hash = Tokens.sha256(refreshToken);
        final AccountStore.RefreshRow row = store.refreshToken(hash)
                                                 .orElseThrow(() -> Access.unauthenticated("unknown refresh token"));
        final long now = clock.millis();
        if (row.sessionRevokedMs() != 0) {
            throw Access.unauthenticated("the session of this refresh token was ended");
        }
        if (row.usedMs() != 0) {
            revoke(row.sessionId());
            auditReuse(row);
            throw Access.unauthenticated("refresh token reused: the session is revoked, log in again");
        }
        if (row.expireMs() <= now) {
            throw Access.unauthenticated("refresh token expired, log in again");
        }
        final AccountStore.UserRow user = store.user(row.userId()).orElse(null);
        if (user == null || user.disabled()) {
            revoke(row.sessionId());
            throw Access.unauthenticated("the user no longer exists or is disabled");
        }
        final String next = Tokens.random(32);
        if (!store.rotate(hash, row.sessionId(), Tokens.sha256(next), now, now + settings.refreshTtl().toMillis())) {
            revoke(row.sessionId()); // lost a race with another use of the same token: a replay
            auditReuse(row);
            throw Access.unauthenticated("refresh token reused: the session is revoked, log in again");
        }
        audit.record(AuditEventKind.AUDIT_EVENT_KIND_TOKEN_REFRESH, true, user.tenant(), user.id(), user.username(),
                     "session " + row.sessionId());
        return tokens(user, row.sessionId(), next);
    }

    /** Ends a login session: its refresh tokens and access tokens stop working. */
    public void logout(String sessionId) {
        revoke(sessionId);
        final Principal caller = Principal.currentOrNull();
        if (caller != null) {
            audit.record(AuditEventKind.AUDIT_EVENT_KIND_LOGOUT, true, caller.tenant(), caller.subject(), "",
                         "session " + sessionId);
        }
    }

    private void auditReuse(AccountStore.RefreshRow row) {
        store.user(row.userId()).ifPresent(user -> audit.record(
                AuditEventKind.AUDIT_EVENT_KIND_REFRESH_TOKEN_REUSE, false, user.tenant(), user.id(), user.username(),
                "session " + row.sessionId() + " revoked"));
    }

    /** An access token for the API key presented. */
    public AuthTokens exchange(Principal caller) {
        if (caller.kind() != Principal.Kind.API_KEY) {
            throw DomainException.permissionDenied("only an API key is exchanged for an access token");
        }
        final String owner = store.key(caller.subject()).map(AccountStore.KeyRow::owner).orElse("");
        final String token = accessTokens.issue(caller, owner, Revocations.keySession(caller.subject()),
                                                settings.accessTtl());
        return AuthTokens.newBuilder().setAccessToken(token).setTokenType("Bearer")
                         .setExpiresIn(settings.accessTtl().toSeconds()).build();
    }

    /** Who a principal is, with its user when it has one here. */
    public Identity identity(Principal caller) {
        final Identity.Builder identity = Identity.newBuilder()
                                                  .setKind(switch (caller.kind()) {
                                                      case USER -> PrincipalKind.PRINCIPAL_KIND_USER;
                                                      case API_KEY -> PrincipalKind.PRINCIPAL_KIND_API_KEY;
                                                      case SERVICE -> PrincipalKind.PRINCIPAL_KIND_SERVICE;
                                                  })
                                                  .setTenant(caller.tenant())
                                                  .setSubject(caller.subject())
                                                  .setRole(caller.role());
        if (caller.kind() == Principal.Kind.USER) {
            store.user(caller.tenant(), caller.subject()).ifPresent(u -> identity.setUser(AccountProtos.user(u)));
        }
        return identity.build();
    }

    /**
     * The login session of an access token presented as {@code bearer}; empty for another credential (an API
     * key or a service credential has no session to end).
     */
    public String sessionOf(String bearer) {
        if (bearer.isEmpty() || bearer.startsWith(Authenticator.API_KEY_PREFIX)) {
            return "";
        }
        try {
            return accessTokens.verify(bearer).sessionId();
        } catch (AuthenticationException e) {
            return ""; // a service credential: not an access token
        }
    }

    void revoke(String sessionId) {
        store.revokeSession(sessionId, clock.millis());
        revocations.revokeSession(sessionId);
    }

    private AuthTokens tokens(AccountStore.UserRow user, String sessionId, String refresh) {
        final String access = accessTokens.issue(Principal.user(user.tenant(), user.id(), user.role()), sessionId,
                                                 settings.accessTtl());
        return AuthTokens.newBuilder()
                         .setAccessToken(access)
                         .setRefreshToken(refresh)
                         .setTokenType("Bearer")
                         .setExpiresIn(settings.accessTtl().toSeconds())
                         .setRefreshExpiresIn(settings.refreshTtl().toSeconds())
                         .setUser(AccountProtos.user(user))
                         .build();
    }
}
