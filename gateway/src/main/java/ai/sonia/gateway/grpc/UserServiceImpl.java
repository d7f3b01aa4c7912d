package ai.sonia.gateway.grpc;

import static ai.sonia.runtime.Unary.reply;

import ai.sonia.gateway.domain.Accounts;
import ai.sonia.gateway.domain.UserDirectory;
import ai.sonia.gateway.v1.ChangeMyPasswordRequest;
import ai.sonia.gateway.v1.ChangeMyPasswordResponse;
import ai.sonia.gateway.v1.DeleteUserRequest;
import ai.sonia.gateway.v1.DeleteUserResponse;
import ai.sonia.gateway.v1.GetMyUserRequest;
import ai.sonia.gateway.v1.GetUserRequest;
import ai.sonia.gateway.v1.ListUsersRequest;
import ai.sonia.gateway.v1.ListUsersResponse;
import ai.sonia.gateway.v1.UpdateMyUserRequest;
import ai.sonia.gateway.v1.UpdateUserRequest;
import ai.sonia.gateway.v1.User;
import ai.sonia.gateway.v1.UserServiceGrpc;
import ai.sonia.runtime.auth.Principal;
import io.grpc.stub.StreamObserver;

/** {@code /api/users/*}: adapters over {@link UserDirectory}. */
public final class UserServiceImpl extends UserServiceGrpc.UserServiceImplBase {

    private final Accounts accounts;
    private final UserDirectory users;

    public UserServiceImpl(Accounts accounts) {
        this.accounts = accounts;
        users = accounts.users();
    }

    @Override
    public void getMyUser(GetMyUserRequest request, StreamObserver<User> out) {
        reply(out, users.mine(Principal.current()));
    }

    @Override
    public void updateMyUser(UpdateMyUserRequest request, StreamObserver<User> out) {
        reply(out, users.updateMine(Principal.current(), request.getDisplayName()));
    }

    @Override
    public void changeMyPassword(ChangeMyPasswordRequest request, StreamObserver<ChangeMyPasswordResponse> out) {
        users.changePassword(Principal.current(), accounts.sessionOf(ArmeriaRequest.bearer()), request.getCurrentPassword(),
                             request.getNewPassword());
        reply(out, ChangeMyPasswordResponse.getDefaultInstance());
    }

    @Override
    public void listUsers(ListUsersRequest request, StreamObserver<ListUsersResponse> out) {
        reply(out, users.list(Principal.current(), request.getPageSize(), request.getPageToken()));
    }

    @Override
    public void getUser(GetUserRequest request, StreamObserver<User> out) {
        reply(out, users.get(Principal.current(), request.getUserId()));
    }

    @Override
    public void updateUser(UpdateUserRequest request, StreamObserver<User> out) {
        reply(out, users.update(Principal.current(), request));
    }

    @Override
    public void deleteUser(DeleteUserRequest request, StreamObserver<DeleteUserResponse> out) {
        users.delete(Principal.current(), request.getUserId());
        reply(out, DeleteUserResponse.getDefaultInstance());
    }
}
