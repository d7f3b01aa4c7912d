package ai.sonia.runtime.client;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;

import ai.sonia.runtime.StackConfig;
import io.grpc.EquivalentAddressGroup;
import io.grpc.NameResolver;
import io.grpc.NameResolverProvider;
import io.grpc.NameResolverRegistry;
import io.grpc.Status;

/**
 * The replicas of a service named in its target as a list, {@code "10.0.0.5:7020,10.0.0.6:7020"}: gRPC resolves
 * the target {@code sonia-replicas:///10.0.0.5:7020,10.0.0.6:7020} to one address per replica (each host looked
 * up when the channel starts and whenever it asks again after a failure), and the channel's {@code round_robin}
 * policy spreads calls over the replicas that are connected, leaving out one that is down until it is back.
 */
final class ReplicaAddresses extends NameResolverProvider {

    static final String SCHEME = "sonia-replicas";

    static {
        // Below DNS's priority (5): a target without a scheme is still resolved by DNS.
        NameResolverRegistry.getDefaultRegistry().register(new ReplicaAddresses());
    }

    /** Whether {@code target} names more than one replica. */
    static boolean isList(String target) {
        return target.indexOf(',') >= 0;
    }

    /** The channel target for a list of replicas, {@code sonia-replicas:///a:1,b:2}. */
    static String channelTarget(String list) {
        final List<String> replicas = StackConfig.replicasOf(list);
        if (replicas.isEmpty()) {
            throw new IllegalArgumentException("target: no host:port in \"" + list + '"');
        }
        return SCHEME + ":///" + String.join(",", replicas);
    }

    @Override
    protected boolean isAvailable() {
        return true;
    }

    @Override
    protected int priority() {
        return 4;
    }

    @Override
    public String getDefaultScheme() {
        return SCHEME;
    }

    @Override
    public NameResolver newNameResolver(URI targetUri, NameResolver.Args args) {
        if (!SCHEME.equals(targetUri.getScheme())) {
            return null;
        }
        final String path = targetUri.getPath() == null ? "" : targetUri.getPath();
        final List<String> replicas = StackConfig.replicasOf(path.startsWith("/") ? path.substring(1) : path);
        if (replicas.isEmpty()) {
            throw new IllegalArgumentException("no host:port in " + targetUri);
        }
        return new Resolver(replicas);
    }

    private static final class Resolver extends NameResolver {
        private final List<String> replicas;
        private Listener2 listener;

        Resolver(List<String> replicas) {
            this.replicas = replicas;
        }

        @Override
        public String getServiceAuthority() {
            // What TLS checks the certificates against: every replica serves the stack's one certificate.
            return replicas.get(0);
        }

        @Override
        public void start(Listener2 listener) {
            this.listener = listener;
            resolve();
        }

        @Override
        public void refresh() {
            resolve();
        }

        private void resolve() {
            final List<EquivalentAddressGroup> groups = new ArrayList<>();
            for (String replica : replicas) {
                final int colon = replica.lastIndexOf(':');
                final SocketAddress address;
                try {
                    final String host = replica.substring(0, colon).replace("[", "").replace("]", "");
                    address = new InetSocketAddress(host, Integer.parseInt(replica.substring(colon + 1)));
                } catch (RuntimeException e) {
                    listener.onError(Status.UNAVAILABLE.withDescription("not a host:port: " + replica));
                    return;
                }
                if (((InetSocketAddress) address).isUnresolved()) {
                    continue; // a name that does not resolve now; asked again on refresh
                }
                groups.add(new EquivalentAddressGroup(address));
            }
            if (groups.isEmpty()) {
                listener.onError(Status.UNAVAILABLE.withDescription("no replica of " + replicas + " resolves"));
                return;
            }
            listener.onResult(ResolutionResult.newBuilder().setAddresses(groups).build());
        }

        @Override
        public void shutdown() {
            // Nothing held.
        }
    }
}
