package ai.sonia.runtime.auth;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import ai.sonia.runtime.Correlation;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;

/**
 * Puts a service credential on every call between Sonia services. It acts for the principal named by
 * {@link #ACTING_FOR} on the call, else for the principal of the request being served (so a user's tenant
 * follows the user's request from service to service), else for the calling service itself. A call that
 * already carries {@code authorization} (a test, or a client of its own) keeps it.
 */
public final class ServiceCredentialInterceptor implements ClientInterceptor {

    /** The principal a call acts for, when it is not the one of the request being served. */
    public static final CallOptions.Key<Principal> ACTING_FOR = CallOptions.Key.create("sonia-acting-for");

    static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
    // A credential lives a minute; reuse one for half of that, so signing stays off the hot path.
    private static final long REUSE_NANOS = ServiceCredentials.TTL.toNanos() / 2;
    private static final int MAX_CACHED = 10_000;

    private record Cached(String header, long expiresNanos) {}

    private final ServiceCredentials credentials;
    private final String fallbackService;
    private final Map<Principal, Cached> cache = new ConcurrentHashMap<>();

    public ServiceCredentialInterceptor(ServiceCredentials credentials, String fallbackService) {
        this.credentials = credentials;
        this.fallbackService = fallbackService;
    }

    @Override
    public <ReqT, RespT> ClientCall<ReqT, RespT> interceptCall(MethodDescriptor<ReqT, RespT> method,
                                                               CallOptions callOptions, Channel next) {
        final String header = header(callOptions);
        return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, callOptions)) {
            @Override
            public void start(Listener<RespT> responseListener, Metadata headers) {
                if (!headers.containsKey(AUTHORIZATION)) {
                    headers.put(AUTHORIZATION, header);
                }
                super.start(responseListener, headers);
            }
        };
    }

    private String header(CallOptions callOptions) {
        final String serving = Correlation.currentService();
        final String caller = serving != null ? serving : fallbackService;
        Principal acting = callOptions.getOption(ACTING_FOR);
        if (acting == null) {
            acting = Principal.currentOrNull();
        }
        final Principal key = acting == null ? Principal.service(caller)
                                             : acting.isService() ? Principal.service(caller) : acting.via(caller);
        final long now = System.nanoTime();
        final Cached cached = cache.get(key);
        if (cached != null && cached.expiresNanos - now > 0) {
            return cached.header;
        }
        if (cache.size() > MAX_CACHED) {
            cache.clear();
        }
        final Cached fresh = new Cached("Bearer " + credentials.issue(caller, key), now + REUSE_NANOS);
        cache.put(key, fresh);
        return fresh.header;
    }
}
