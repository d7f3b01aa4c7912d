package ai.sonia.runtime.testing;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import io.grpc.Channel;
import io.grpc.stub.StreamObserver;

/** A minimal gRPC reflection client (v1 and v1alpha), as grpcurl and buf curl use it. */
public final class ReflectionClient {

    /** The services listed by {@code grpc.reflection.v1.ServerReflection}. */
    public static List<String> listServicesV1(Channel channel) {
        final var request = io.grpc.reflection.v1.ServerReflectionRequest.newBuilder().setListServices("*").build();
        return call(io.grpc.reflection.v1.ServerReflectionGrpc.newStub(channel)::serverReflectionInfo, request)
                .getListServicesResponse().getServiceList().stream()
                .map(io.grpc.reflection.v1.ServiceResponse::getName).toList();
    }

    /** The services listed by {@code grpc.reflection.v1alpha.ServerReflection}. */
    @SuppressWarnings("deprecation")
    public static List<String> listServicesV1Alpha(Channel channel) {
        final var request = io.grpc.reflection.v1alpha.ServerReflectionRequest.newBuilder().setListServices("*").build();
        return call(io.grpc.reflection.v1alpha.ServerReflectionGrpc.newStub(channel)::serverReflectionInfo, request)
                .getListServicesResponse().getServiceList().stream()
                .map(io.grpc.reflection.v1alpha.ServiceResponse::getName).toList();
    }

    /** The name of the first file descriptor returned for a symbol. */
    public static String fileContainingSymbolV1(Channel channel, String symbol) {
        final var request = io.grpc.reflection.v1.ServerReflectionRequest.newBuilder()
                                                                         .setFileContainingSymbol(symbol).build();
        final var response = call(io.grpc.reflection.v1.ServerReflectionGrpc.newStub(channel)::serverReflectionInfo,
                                  request);
        try {
            return com.google.protobuf.DescriptorProtos.FileDescriptorProto.parseFrom(
                    response.getFileDescriptorResponse().getFileDescriptorProto(0)).getName();
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new IllegalStateException(e);
        }
    }

    private static <Q, R> R call(java.util.function.Function<StreamObserver<R>, StreamObserver<Q>> method, Q request) {
        final CompletableFuture<R> result = new CompletableFuture<>();
        final StreamObserver<Q> requests = method.apply(new StreamObserver<>() {
            @Override
            public void onNext(R value) {
                result.complete(value);
            }

            @Override
            public void onError(Throwable t) {
                result.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {}
        });
        requests.onNext(request);
        requests.onCompleted();
        try {
            return result.get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private ReflectionClient() {}
}
