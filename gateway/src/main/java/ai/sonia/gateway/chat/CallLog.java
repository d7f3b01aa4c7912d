package ai.sonia.gateway.chat;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

import ai.sonia.gateway.v1.DownstreamCall;
import ai.sonia.runtime.Errors;
import io.grpc.StatusRuntimeException;

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

    static String errorCode(Throwable t) {
        return Errors.envelopeCode(t);
    }
}
