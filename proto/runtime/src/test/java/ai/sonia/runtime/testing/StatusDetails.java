package ai.sonia.runtime.testing;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.rpc.BadRequest;
import com.google.rpc.ErrorInfo;

import io.grpc.protobuf.StatusProto;

/** The details of a failed gRPC call (google.rpc.Status), read the one way; a missing one fails the test. */
public final class StatusDetails {

    private StatusDetails() {}

    public static ErrorInfo errorInfo(Throwable failure) {
        return detail(failure, ErrorInfo.class);
    }

    public static BadRequest badRequest(Throwable failure) {
        return detail(failure, BadRequest.class);
    }

    /** The failure's first detail of {@code type}. */
    public static <T extends Message> T detail(Throwable failure, Class<T> type) {
        final com.google.rpc.Status status = StatusProto.fromThrowable(failure);
        if (status == null) {
            throw new AssertionError("no status details in " + failure);
        }
        for (Any any : status.getDetailsList()) {
            if (any.is(type)) {
                try {
                    return any.unpack(type);
                } catch (InvalidProtocolBufferException e) {
                    throw new AssertionError(e);
                }
            }
        }
        throw new AssertionError("no " + type.getSimpleName() + " in " + failure);
    }
}
