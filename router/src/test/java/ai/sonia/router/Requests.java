package ai.sonia.router;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.BadRequest;
import com.google.rpc.ErrorInfo;

import ai.sonia.router.v1.ChatMessage;
import ai.sonia.router.v1.ChatRequest;
import ai.sonia.router.v1.Role;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;

/** Small builders and error readers shared by the router tests. */
final class Requests {

    static ChatMessage user(String text) {
        return ChatMessage.newBuilder().setRole(Role.ROLE_USER).setContent(text).build();
    }

    static ChatRequest ask(String model, String text) {
        return ChatRequest.newBuilder().setModel(model).addMessages(user(text)).build();
    }

    static ErrorInfo errorInfo(StatusRuntimeException e) {
        return detail(e, ErrorInfo.class);
    }

    static BadRequest badRequest(StatusRuntimeException e) {
        return detail(e, BadRequest.class);
    }

    private static <T extends com.google.protobuf.Message> T detail(StatusRuntimeException e, Class<T> type) {
        final com.google.rpc.Status status = StatusProto.fromThrowable(e);
        if (status == null) {
            throw new AssertionError("no status details in " + e);
        }
        for (com.google.protobuf.Any any : status.getDetailsList()) {
            if (any.is(type)) {
                try {
                    return any.unpack(type);
                } catch (InvalidProtocolBufferException ex) {
                    throw new AssertionError(ex);
                }
            }
        }
        throw new AssertionError("no " + type.getSimpleName() + " in " + e);
    }

    private Requests() {}
}
