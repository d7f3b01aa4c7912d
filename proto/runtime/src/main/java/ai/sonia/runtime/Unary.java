package ai.sonia.runtime;

import io.grpc.stub.StreamObserver;

/** The end of every unary gRPC method: its one response, then completion. */
public final class Unary {

    private Unary() {}

    /** Sends {@code value} as the call's response and completes the call. */
    public static <T> void reply(StreamObserver<T> out, T value) {
        out.onNext(value);
        out.onCompleted();
    }
}
