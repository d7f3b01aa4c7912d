package ai.sonia.gateway.grpc;

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
        out.onNext(accounts.register(request, Principal.currentOrNull()));
        out.onCompleted();
    }

    @Override
    public void login(LoginRequest request, StreamObserver<AuthTokens> out) {
        if (request.getUsername().isEmpty()) {
            throw DomainException.invalidArgument("username", "must not be empty");
        }
        out.onNext(accounts.login(request.getUsername(), request.getPassword()));
        out.onCompleted();
    }

    @Override
    public void refresh(RefreshRequest request, StreamObserver<AuthTokens> out) {
        out.onNext(accounts.refresh(request.getRefreshToken()));
        out.onCompleted();
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
        out.onNext(LogoutResponse.getDefaultInstance());
        out.onCompleted();
    }

    @Override
    public void getMe(GetMeRequest request, StreamObserver<Identity> out) {
        out.onNext(accounts.identity(Principal.current()));
        out.onCompleted();
    }

    @Override
    public void exchangeApiKey(ExchangeApiKeyRequest request, StreamObserver<AuthTokens> out) {
        out.onNext(accounts.exchange(Principal.current()));
        out.onCompleted();
    }
}
