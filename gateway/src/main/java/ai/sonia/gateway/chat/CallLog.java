package ai.sonia.gateway.chat;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

import com.google.rpc.ErrorInfo;

import ai.sonia.gateway.v1.DownstreamCall;
import ai.sonia.runtime.edge.ErrorMapping;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;

/** Times each downstream call of one request and keeps its outcome, for the provenance. */
final class CallLog {

    private final List<DownstreamCall> calls = new ArrayList<>();

    /** Runs {@code call}, recording its duration and, when it fails, its envelope error code. */
    <T> T call(String service, String method, Supplier<T> call) {
        final long start = System.nanoTime();
        try {
            final T result = call.get();
            record(service, method, start, "");
            return result;
        } catch (StatusRuntimeException e) {
            record(service, method, start, errorCode(e));
            throw e;
        }
    }

    List<DownstreamCall> calls() {
        return List.copyOf(calls);
    }

    void record(String service, String method, long startNanos, String errorCode) {
        synchronized (calls) {
            calls.add(DownstreamCall.newBuilder()
                                    .setService(service)
                                    .setMethod(method)
                                    .setDurationMs((System.nanoTime() - startNanos) / 1_000_000)
                                    .setErrorCode(errorCode)
                                    .build());
        }
    }

    /** The envelope code of a failed call: its gRPC code refined by its ErrorInfo reason. */
    static String errorCode(Throwable t) {
        final Status status = Status.fromThrowable(t);
        String reason = null;
        final com.google.rpc.Status details = StatusProto.fromThrowable(t);
        if (details != null) {
            for (var any : details.getDetailsList()) {
                if (any.is(ErrorInfo.class)) {
                    try {
                        reason = any.unpack(ErrorInfo.class).getReason();
                    } catch (com.google.protobuf.InvalidProtocolBufferException ignored) {
                        // no reason then
                    }
                }
            }
        }
        return ErrorMapping.wireName(ErrorMapping.errorCode(status.getCode(), reason));
    }
}
