package ai.sonia.runtime.client;

import java.util.concurrent.TimeUnit;

import ai.sonia.runtime.ServiceSpec;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.auth.ServiceCredentialInterceptor;
import ai.sonia.runtime.auth.ServiceCredentials;
import ai.sonia.runtime.tls.ServerTls;
import ai.sonia.runtime.tracing.Tracing;
import io.grpc.ClientInterceptor;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;

/**
 * The one way a Sonia service calls another: a channel to the service's configured target whose
 * deadlines and retry policy come from the contract, and which propagates the correlation id and
 * the caller's deadline. Generated stubs are built on it ({@code MemoryServiceGrpc.newBlockingStub(ch)});
 * no service writes its own retry loop.
 */
public final class SoniaChannels {

    /**
     * A channel from service {@code caller} to {@code spec}'s target in {@code config}, whose calls carry this
     * stack's service credential in the caller's name. Close it with {@link #close(ManagedChannel)}.
     */
    public static ManagedChannel forService(StackConfig config, ServiceSpec caller, ServiceSpec spec) {
        return forTarget(config, config.target(spec), spec, credentials(config, caller.name()));
    }

    /**
     * The interceptor that signs calls with the service credential of the stack {@code config} names, as
     * the service serving the current request, or as {@code caller} outside any request.
     */
    public static ClientInterceptor credentials(StackConfig config, String caller) {
        return new ServiceCredentialInterceptor(ServiceCredentials.of(config), caller);
    }

    /**
     * A channel to an explicit {@code host:port} of the stack {@code config} names: over TLS when the service
     * serves TLS (trusting the stack's CA, and showing the stack's certificate with mutual TLS).
     */
    public static ManagedChannel forTarget(StackConfig config, String target, ServiceSpec spec,
                                           ClientInterceptor... interceptors) {
        return build(NettyChannelBuilder.forTarget(target, ServerTls.channelCredentials(config, spec)), spec,
                     interceptors);
    }

    /** A plaintext channel to an explicit {@code host:port}, with extra interceptors (a credential, say). */
    public static ManagedChannel forTarget(String target, ServiceSpec spec, ClientInterceptor... interceptors) {
        return build(NettyChannelBuilder.forTarget(target).usePlaintext(), spec, interceptors);
    }

    private static ManagedChannel build(NettyChannelBuilder builder, ServiceSpec spec,
                                        ClientInterceptor... interceptors) {
        return builder.defaultServiceConfig(ServiceConfigs.of(spec))
                                  .enableRetry()
                                  .maxRetryAttempts(ServiceConfigs.MAX_ATTEMPTS)
                                  .intercept(interceptors)
                                  .intercept(new ContextPropagatingInterceptor(), Tracing.get().clientInterceptor())
                                  .build();
    }

    /** Shuts a channel down, waiting briefly for in-flight calls. */
    public static void close(ManagedChannel channel) {
        channel.shutdown();
        try {
            if (!channel.awaitTermination(2, TimeUnit.SECONDS)) {
                channel.shutdownNow();
            }
        } catch (InterruptedException e) {
            channel.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }

    private SoniaChannels() {}
}
