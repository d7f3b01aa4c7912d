package ai.sonia.runtime;

import java.util.List;
import java.util.concurrent.TimeUnit;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.InternalServer;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.protobuf.services.ProtoReflectionService;

/**
 * Server reflection under its old name, {@code grpc.reflection.v1alpha.ServerReflection}, which older
 * grpcurl versions ask for. Armeria wires only one reflection service (v1) into its server context, so
 * this binds grpc-java's v1alpha service as a plain definition and gives it, through an interceptor,
 * the server context from which grpc-java's reflection reads the list of services.
 */
final class ReflectionV1Alpha {

    static final String SERVICE = "grpc.reflection.v1alpha.ServerReflection";

    /** The v1alpha definition, listing {@code services} (and itself) to reflection clients. */
    @SuppressWarnings("deprecation") // v1alpha is deprecated upstream, and still what old clients ask for.
    static ServerServiceDefinition definition(List<ServerServiceDefinition> services) {
        final ServerServiceDefinition alpha = ProtoReflectionService.newInstance().bindService();
        final ListingServer server = new ListingServer(services);
        return ServerInterceptors.intercept(alpha, new ServerInterceptor() {
            @Override
            public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(ServerCall<ReqT, RespT> call,
                                                                         Metadata headers,
                                                                         ServerCallHandler<ReqT, RespT> next) {
                final Context context = Context.current().withValue(InternalServer.SERVER_CONTEXT_KEY, server);
                return Contexts.interceptCall(context, call, headers, next);
            }
        });
    }

    /** A stand-in {@link Server} whose only job is to list the services. */
    private static final class ListingServer extends Server {
        private final List<ServerServiceDefinition> services;

        ListingServer(List<ServerServiceDefinition> services) {
            this.services = List.copyOf(services);
        }

        @Override
        public List<ServerServiceDefinition> getServices() {
            return services;
        }

        @Override
        public List<ServerServiceDefinition> getImmutableServices() {
            return services;
        }

        @Override
        public List<ServerServiceDefinition> getMutableServices() {
            return List.of();
        }

        @Override
        public Server start() {
            throw new UnsupportedOperationException();
        }

        @Override
        public Server shutdown() {
            return this;
        }

        @Override
        public Server shutdownNow() {
            return this;
        }

        @Override
        public boolean isShutdown() {
            return false;
        }

        @Override
        public boolean isTerminated() {
            return false;
        }

        @Override
        public boolean awaitTermination(long timeout, TimeUnit unit) {
            return false;
        }

        @Override
        public void awaitTermination() {}
    }

    private ReflectionV1Alpha() {}
}
