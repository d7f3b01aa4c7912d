package ai.sonia.runtime;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.InternalServer;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;

/**
 * Server reflection under its old name, {@code grpc.reflection.v1alpha.ServerReflection}, which older
 * grpcurl versions ask for. Armeria accepts only one reflection service (it serves v1), and v1alpha's
 * messages are wire-identical to v1's, so this binds a second v1 instance under the v1alpha name and
 * gives it the server context that grpc-java's reflection reads the service list from.
 */
final class ReflectionV1Alpha {

    static final String SERVICE = "grpc.reflection.v1alpha.ServerReflection";

    /** The v1alpha definition, listing {@code services} (and itself) to reflection clients. */
    static ServerServiceDefinition definition(List<ServerServiceDefinition> services) {
        final ServerServiceDefinition v1 = ProtoReflectionServiceV1.newInstance().bindService();
        final List<ServerMethodDefinition<?, ?>> methods = new ArrayList<>();
        for (ServerMethodDefinition<?, ?> method : v1.getMethods()) {
            methods.add(renamed(method));
        }
        // The v1 schema stays attached so DocService and reflection can describe the messages.
        final ServiceDescriptor.Builder descriptor =
                ServiceDescriptor.newBuilder(SERVICE)
                                 .setSchemaDescriptor(v1.getServiceDescriptor().getSchemaDescriptor());
        methods.forEach(m -> descriptor.addMethod(m.getMethodDescriptor()));
        final ServerServiceDefinition.Builder alpha = ServerServiceDefinition.builder(descriptor.build());
        methods.forEach(alpha::addMethod);
        final ListingServer server = new ListingServer(services);
        return ServerInterceptors.intercept(alpha.build(), new ServerInterceptor() {
            @Override
            public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(ServerCall<ReqT, RespT> call,
                                                                         Metadata headers,
                                                                         ServerCallHandler<ReqT, RespT> next) {
                final Context context = Context.current().withValue(InternalServer.SERVER_CONTEXT_KEY, server);
                return Contexts.interceptCall(context, call, headers, next);
            }
        });
    }

    private static <ReqT, RespT> ServerMethodDefinition<ReqT, RespT> renamed(ServerMethodDefinition<ReqT, RespT> method) {
        final MethodDescriptor<ReqT, RespT> descriptor = method.getMethodDescriptor();
        return ServerMethodDefinition.create(
                descriptor.toBuilder()
                          .setFullMethodName(MethodDescriptor.generateFullMethodName(
                                  SERVICE, descriptor.getBareMethodName()))
                          .build(),
                method.getServerCallHandler());
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
