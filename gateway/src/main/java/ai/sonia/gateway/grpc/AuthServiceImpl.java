package ai.sonia.gateway.grpc;

import static ai.sonia.runtime.Unary.reply;

import ai.sonia.gateway.domain.Accounts;
import ai.sonia.gateway.v1.AuthServiceGrpc;
import ai.sonia.gateway.v1.AuthTokens;
import ai.sonia.gateway.v1.ExchangeApiKeyRequest;
import ai.sonia.gateway.v1.GetMeRequest;
import ai.sonia.gateway.v1.Identity;
import ai.sonia.gateway.v1.LoginRequest;
import ai.sonia.gateway.v1.LogoutRequest;
import ai.sonia.gateway.v1.LogoutResponse;
import ai.sonia.gateway.v1.RefreshRequest;
import ai.sonia.gateway.v1.RegisterRequest;
import ai.sonia.gateway.v1.User;
import ai.sonia.runtime.auth.Principal;
import ai.sonia.runtime.errors.DomainException;
import io.grpc.stub.StreamObserver;

/** {@code /api/auth/*}: adapters over {@link Accounts}. */
public final class AuthServiceImpl extends AuthServiceGrpc.AuthServiceImplBase {

    private final Accounts accounts;

    public AuthServiceImpl(Accounts accounts) {
        this.accounts = accounts;
    }

    @Override
    public void register(RegisterRequest request, StreamObserver<User> out) {
        reply(out, accounts.register(request, Principal.currentOrNull()));
    }

    @Override
    public void login(LoginRequest request, StreamObserver<AuthTokens> out) {
        if (request.getUsername().isEmpty()) {
            throw DomainException.invalidArgument("username", "must not be empty");
        }
        reply(out, accounts.login(request.getUsername(), request.getPassword()));
    }

    @Override
    public void refresh(RefreshRequest request, StreamObserver<AuthTokens> out) {
        reply(out, accounts.refresh(request.getRefreshToken()));
    }

    @Override
    public void logout(LogoutRequest request, StreamObserver<LogoutResponse> out) {
        Principal.current();
        final String session = accounts.sessionOf(ArmeriaRequest.bearer());
        if (session.isEmpty()) {
            throw DomainException.invalidArgument("authorization",
                                         "not a login's access token (revoke an API key at DELETE /api/keys/{key_id})");
        }
        accounts.logout(session);
        reply(out, LogoutResponse.getDefaultInstance());
    }

    @Override
    public void getMe(GetMeRequest request, StreamObserver<Identity> out) {
        reply(out, accounts.identity(Principal.current()));
    }

    @Override
    public void exchangeApiKey(ExchangeApiKeyRequest request, StreamObserver<AuthTokens> out) {
        reply(out, accounts.exchange(Principal.current()));
    }
}
