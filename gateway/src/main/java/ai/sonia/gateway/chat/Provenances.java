package ai.sonia.gateway.chat;

import com.google.rpc.ErrorInfo;

import com.linecorp.armeria.common.annotation.Nullable;

import io.grpc.protobuf.StatusProto;

/** Reading what a failed downstream call said: its envelope code and ErrorInfo metadata. */
public final class Provenances {

    /** The envelope code ("UNAVAILABLE", "APPROVAL_REQUIRED", ...) of a failed call. */
    public static String errorCode(Throwable t) {
        return CallLog.errorCode(t);
    }

    /** A value of the failed call's ErrorInfo metadata, or null. */
    @Nullable
    public static String metadata(Throwable t, String key) {
        final com.google.rpc.Status details = StatusProto.fromThrowable(t);
        if (details == null) {
            return null;
        }
        for (var any : details.getDetailsList()) {
            if (any.is(ErrorInfo.class)) {
                try {
                    final String value = any.unpack(ErrorInfo.class).getMetadataMap().get(key);
                    if (value != null) {
                        return value;
                    }
                } catch (com.google.protobuf.InvalidProtocolBufferException ignored) {
                    // not readable: no value
                }
            }
        }
        return null;
    }

    private Provenances() {}
}
