package ai.sonia.runtime.client;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import ai.sonia.runtime.ServiceSpec;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.auth.ServiceCredentialInterceptor;
import ai.sonia.runtime.auth.ServiceCredentials;
import ai.sonia.runtime.tls.ServerTls;
import ai.sonia.runtime.tracing.Tracing;
import io.grpc.ClientInterceptor;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;

/**
 * The one way a Sonia service calls another: a channel to the service's configured target whose
 * deadlines and retry policy come from the contract, and which propagates the correlation id and
 * the caller's deadline. Generated stubs are built on it ({@code MemoryServiceGrpc.newBlockingStub(ch)});
 * no service writes its own retry loop.
 */
public final class SoniaChannels {

    /** How often a channel that cannot connect tries again. */
    static final Duration RECONNECT_INTERVAL = Duration.ofMillis(250);

    /** The one timer of the runtime's client side: reconnects and recovery probes. */
    static final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        final Thread thread = new Thread(r, "sonia-channel-timer");
        thread.setDaemon(true);
        return thread;
    });

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
     * A channel to an explicit {@code host:port} of the stack {@code config} names, or to the replicas of a list
     * ({@code "host:port,host:port"}, calls spread round-robin over those that are up): over TLS when the service
     * serves TLS (trusting the stack's CA, and showing the stack's certificate with mutual TLS).
     */
    public static ManagedChannel forTarget(StackConfig config, String target, ServiceSpec spec,
                                           ClientInterceptor... interceptors) {
        return build(replicas(NettyChannelBuilder.forTarget(channelTarget(target),
                                                            ServerTls.channelCredentials(config, spec)), target),
                     spec, interceptors);
    }

    /** A plaintext channel to an explicit {@code host:port} (or a list), with extra interceptors (a credential, say). */
    public static ManagedChannel forTarget(String target, ServiceSpec spec, ClientInterceptor... interceptors) {
        return build(replicas(NettyChannelBuilder.forTarget(channelTarget(target)), target).usePlaintext(), spec,
                     interceptors);
    }

    private static String channelTarget(String target) {
        return ReplicaAddresses.isList(target) ? ReplicaAddresses.channelTarget(target) : target;
    }

    /** Round-robin over the replicas of a list; one address keeps gRPC's default (pick first). */
    private static NettyChannelBuilder replicas(NettyChannelBuilder builder, String target) {
        return ReplicaAddresses.isList(target) ? builder.defaultLoadBalancingPolicy("round_robin") : builder;
    }

    /**
     * While it cannot connect, a channel retries every {@link #RECONNECT_INTERVAL} instead of grpc-java's
     * backoff that grows to two minutes: a restarted service is reached again within about that interval.
     */
    private static ManagedChannel build(NettyChannelBuilder builder, ServiceSpec spec,
                                        ClientInterceptor... interceptors) {
        final ManagedChannel channel =
                builder.defaultServiceConfig(ServiceConfigs.of(spec))
                       .enableRetry()
                       .maxRetryAttempts(ServiceConfigs.MAX_ATTEMPTS)
                       .intercept(interceptors)
                       .intercept(new ContextPropagatingInterceptor(), Tracing.get().clientInterceptor())
                       .build();
        capReconnectBackoff(channel, channel.getState(false));
        return channel;
    }

    /**
     * While the channel is in TRANSIENT_FAILURE, its reconnect backoff is cut short every
     * {@link #RECONNECT_INTERVAL} (the public {@code resetConnectBackoff}; grpc-java does not let the backoff
     * itself be configured). The channel stays in TRANSIENT_FAILURE across its failed attempts, so the pacing
     * repeats until it leaves that state.
     */
    private static void capReconnectBackoff(ManagedChannel channel, ConnectivityState seen) {
        final AtomicBoolean pacing = new AtomicBoolean();
        watchState(channel, seen, pacing);
    }

    private static void watchState(ManagedChannel channel, ConnectivityState seen,
                                   AtomicBoolean pacing) {
        channel.notifyWhenStateChanged(seen, () -> {
            final ConnectivityState now = channel.getState(false);
            if (now == ConnectivityState.SHUTDOWN) {
                return;
            }
            if (now == ConnectivityState.TRANSIENT_FAILURE && pacing.compareAndSet(false, true)) {
                paceReconnects(channel, pacing);
            }
            watchState(channel, now, pacing);
        });
    }

    private static void paceReconnects(ManagedChannel channel, AtomicBoolean pacing) {
        timer.schedule(() -> {
            if (channel.getState(false) == ConnectivityState.TRANSIENT_FAILURE) {
                channel.resetConnectBackoff();
                paceReconnects(channel, pacing);
            } else {
                pacing.set(false);
            }
        }, RECONNECT_INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
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
