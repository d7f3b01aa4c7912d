package ai.sonia.gateway.domain;

import java.util.List;
import java.util.Map;

import ai.sonia.common.v1.ErrorCode;
import ai.sonia.common.v1.Role;
import ai.sonia.gateway.v1.AuditEventKind;
import ai.sonia.gateway.v1.CreateApiKeyResponse;
import ai.sonia.gateway.v1.ListApiKeysResponse;
import ai.sonia.runtime.auth.AuthenticationException;
import ai.sonia.runtime.auth.Authenticator;
import ai.sonia.runtime.auth.Principal;
import ai.sonia.runtime.auth.Roles;
import ai.sonia.runtime.errors.DomainException;
import ai.sonia.runtime.paging.PageTokens;

/**
 * API keys for programs: {@code sonia_sk_<id>_<secret>}, a 256-bit random secret stored as its SHA-256 and
 * compared in constant time. A key acts in its creator's tenant with a role no higher than its creator's
 * (checked again on every use, so demoting or disabling the creator narrows or stops its keys).
 */
public final class ApiKeys {

    private final Accounts accounts;

    ApiKeys(Accounts accounts) {
        this.accounts = accounts;
    }

    /** Creates a key for the calling user. */
    public CreateApiKeyResponse create(Principal caller, String name, Role requested, String requestId) {
        Access.requirePerson(caller);
        if (name.isBlank() || name.length() > 100) {
            throw DomainException.invalidArgument("name", "1 to 100 characters");
        }
        final Role role = requested == Role.ROLE_UNSPECIFIED ? caller.role() : requested;
        if (rank(role) > rank(caller.role())) {
            throw DomainException.permissionDenied("a key's role cannot be above its creator's");
        }
        final String requester = caller.tenant() + '/' + caller.subject();
        final AccountStore.KeyRow earlier = accounts.retried(requester, "CreateApiKey", requestId)
                                                    .flatMap(accounts.store::key)
                                                    .filter(k -> k.revokedMs() == 0).orElse(null);
        if (earlier != null) {
            // The first answer's secret was never stored: a new one replaces it.
            final String secret = Tokens.random(32);
            accounts.store.setKeySecret(earlier.id(), Tokens.sha256(secret));
            accounts.audit.record(AuditEventKind.AUDIT_EVENT_KIND_API_KEY_CREATE, true, caller.tenant(),
                                  caller.subject(), "", "key " + earlier.id() + ": new secret for a retried create");
            return CreateApiKeyResponse.newBuilder().setKey(AccountProtos.key(earlier))
                                       .setSecret(Authenticator.API_KEY_PREFIX + earlier.id() + '_' + secret).build();
        }
        final int max = accounts.settings.maxApiKeysPerUser();
        if (accounts.store.keys(caller.tenant(), caller.subject(), 0, "", max).size() >= max) {
            // Each key is a row and a credential to check: one user does not get to make them without end.
            throw DomainException.of(ErrorCode.ERROR_CODE_RATE_LIMITED, "api_keys_per_user limit reached: you hold "
                                     + max + " live API keys; revoke one you no longer use first",
                                     Map.of("limit", "api_keys_per_user", "max", String.valueOf(max)));
        }
        final String id = Tokens.id("");
        final String secret = Tokens.random(32);
        final AccountStore.KeyRow row = new AccountStore.KeyRow(id, caller.tenant(), caller.subject(), name.strip(),
                                                                role, Tokens.sha256(secret),
                                                                accounts.clock.millis(), 0);
        accounts.store.insertKey(row);
        accounts.remember(requester, "CreateApiKey", requestId, id);
        accounts.audit.record(AuditEventKind.AUDIT_EVENT_KIND_API_KEY_CREATE, true, caller.tenant(), caller.subject(),
                              "", "key " + id + " (" + Roles.name(role) + "): " + row.name());
        return CreateApiKeyResponse.newBuilder().setKey(AccountProtos.key(row))
                                   .setSecret(Authenticator.API_KEY_PREFIX + id + '_' + secret).build();
    }

    /** A page of the caller's keys, newest first; an admin's list holds the whole tenant's. */
    public ListApiKeysResponse list(Principal caller, int pageSize, String pageToken) {
        Access.requirePerson(caller);
        final int size = Accounts.pageSize(pageSize);
        final String owner = caller.isAdmin() ? null : caller.subject();
        final String query = "ListApiKeys tenant=" + caller.tenant() + " owner=" + (owner == null ? "*" : owner);
        final List<String> after = PageTokens.after(pageToken, query).orElse(List.of("0", ""));
        final long afterCreateMs;
        try {
            afterCreateMs = Long.parseLong(after.get(0));
        } catch (NumberFormatException | IndexOutOfBoundsException e) {
            throw DomainException.invalidArgument("page_token", "not a page token of this list");
        }
        final List<AccountStore.KeyRow> rows = accounts.store.keys(caller.tenant(), owner, afterCreateMs,
                                                                   after.size() > 1 ? after.get(1) : "", size + 1);
        final ListApiKeysResponse.Builder page = ListApiKeysResponse.newBuilder();
        rows.stream().limit(size).forEach(k -> page.addKeys(AccountProtos.key(k)));
        if (rows.size() > size) {
            final AccountStore.KeyRow last = rows.get(size - 1);
            page.setNextPageToken(PageTokens.next(query, List.of(String.valueOf(last.createMs()), last.id())));
        }
        return page.build();
    }

    /** Revokes a key of the caller (an admin: of its tenant); NOT_FOUND for anyone else's. */
    public void delete(Principal caller, String keyId) {
        Access.requirePerson(caller);
        final AccountStore.KeyRow key = accounts.store.key(keyId)
                                                      .filter(k -> k.revokedMs() == 0)
                                                      .filter(k -> caller.owns(k.tenant(), k.owner()))
                                                      .orElseThrow(() -> DomainException.notFound("API key", keyId));
        accounts.store.revokeKey(key.id(), accounts.clock.millis());
        accounts.revocations.revokeKey(key.id());
        accounts.audit.record(AuditEventKind.AUDIT_EVENT_KIND_API_KEY_DELETE, true, key.tenant(), key.owner(), "",
                              "key " + key.id() + ": " + key.name());
    }

    /** The principal of an API key; {@link AuthenticationException} for an unknown or revoked one. */
    Principal resolve(String bearer) {
        final String rest = bearer.substring(Authenticator.API_KEY_PREFIX.length());
        final int separator = rest.indexOf('_');
        if (separator <= 0) {
            throw new AuthenticationException("malformed API key");
        }
        final AccountStore.KeyRow key = accounts.store.key(rest.substring(0, separator)).orElse(null);
        // Hash and compare even for an unknown id, so the answer takes the same time.
        final boolean matches = Tokens.sameHash(Tokens.sha256(rest.substring(separator + 1)),
                                                key == null ? "" : key.secretHash());
        if (key == null || !matches || key.revokedMs() != 0) {
            throw new AuthenticationException("unknown or revoked API key");
        }
        final AccountStore.UserRow owner = accounts.store.user(key.tenant(), key.owner()).orElse(null);
        if (owner == null || owner.disabled()) {
            throw new AuthenticationException("the API key's owner no longer exists or is disabled");
        }
        final Role role = rank(owner.role()) < rank(key.role()) ? owner.role() : key.role();
        return new Principal(Principal.Kind.API_KEY, key.tenant(), key.id(), role, "");
    }

    private static int rank(Role role) {
        return role == Role.ROLE_ADMIN ? 2 : role == Role.ROLE_USER ? 1 : 0;
    }
}
