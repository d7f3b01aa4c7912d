package ai.sonia.runtime;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import com.linecorp.armeria.common.annotation.Nullable;
import com.linecorp.armeria.server.ServiceRequestContext;

import ai.sonia.runtime.auth.Principal;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;

/**
 * Fault injection built into every service, for fault runs and benchmarks (no chaos proxy is
 * installable here): delays a share of the calls of a service, and fails them with a status. Off unless
 * configured, per service: {@code "services": {"memory": {"faults": {"rate": 0.1, "code": "UNAVAILABLE",
 * "method": "SearchMemories"}}}} ({@link Keys}), or {@code SONIA_<SERVICE>_FAULTS="0.1:UNAVAILABLE"}. A fault run
 * in the same JVM changes a running service's faults with {@link #set}, delays and one tenant included.
 */
public final class FaultInjector implements ServerInterceptor {

    /** What to inject: {@code code} OK only delays the call. */
    public record Faults(double rate, Status.Code code, @Nullable String method, long delayMs,
                         @Nullable String tenant) {
        /** No faults. */
        public static final Faults NONE = new Faults(0, Status.Code.OK, null, 0, null);

        public Faults {
            if (rate < 0 || rate > 1) {
                throw new IllegalArgumentException("faults.rate: " + rate + " (expected: 0..1)");
            }
            if (delayMs < 0) {
                throw new IllegalArgumentException("faults.delay_ms: " + delayMs + " (expected: >= 0)");
            }
        }
    }

    /** The {@code faults} keys of every service's section. */
    public record Keys(@ConfigKey(value = "Share of calls that fail, 0..1.", def = "0") double rate,
                       @ConfigKey(value = "The gRPC status code they fail with.", def = "UNAVAILABLE") String code,
                       @ConfigKey("Only this method (bare name), else every one.") String method) {}

    private static final Map<String, FaultInjector> running = new ConcurrentHashMap<>();

    private volatile Faults faults;

    private FaultInjector(Faults faults) {
        this.faults = faults;
    }

    /** The injector of a service, with its configured faults (none unless configured). */
    static FaultInjector install(StackConfig config, ServiceSpec spec) {
        final FaultInjector injector = new FaultInjector(configured(config, spec));
        running.put(spec.name(), injector);
        return injector;
    }

    /** Whether faults were configured at start-up (worth a warning in the log). */
    boolean active() {
        return faults.rate() > 0;
    }

    /** Changes the faults of the named service running in this JVM (its latest server). */
    public static void set(String service, Faults faults) {
        final FaultInjector injector = running.get(service);
        if (injector == null) {
            throw new IllegalStateException(service + " is not running in this JVM");
        }
        injector.faults = faults;
    }

    private static Faults configured(StackConfig config, ServiceSpec spec) {
        final String fromEnv = config.env("SONIA_" + spec.name().toUpperCase(Locale.ROOT) + "_FAULTS");
        if (fromEnv != null) {
            final String[] parts = fromEnv.split(":");
            return new Faults(Double.parseDouble(parts[0]),
                              Status.Code.valueOf(parts.length > 1 ? parts[1] : "UNAVAILABLE"), null, 0, null);
        }
        final Keys faults = config.serviceKeys(spec).faults();
        return new Faults(faults.rate(), Status.Code.valueOf(faults.code()), faults.method(), 0, null);
    }

    @Override
    public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(ServerCall<ReqT, RespT> call, Metadata headers,
                                                                 ServerCallHandler<ReqT, RespT> next) {
        final Faults current = faults;
        if (current.rate() == 0) {
            return next.startCall(call, headers);
        }
        final String name = call.getMethodDescriptor().getBareMethodName();
        if (name == null || (current.method() != null && !current.method().equals(name)) || name.equals("Check")) {
            return next.startCall(call, headers);
        }
        if (current.tenant() != null) {
            final Principal principal = Principal.currentOrNull();
            if (principal == null || !current.tenant().equals(principal.tenant())) {
                return next.startCall(call, headers);
            }
        }
        if (ThreadLocalRandom.current().nextDouble() >= current.rate()) {
            return next.startCall(call, headers);
        }
        final Runnable act = current.code() == Status.Code.OK
                             ? null
                             : () -> call.close(Status.fromCode(current.code()).withDescription("injected fault"),
                                                new Metadata());
        if (current.delayMs() == 0) {
            if (act == null) {
                return next.startCall(call, headers);
            }
            act.run();
            return new ServerCall.Listener<>() {};
        }
        final Delayed<ReqT> delayed = new Delayed<>();
        ServiceRequestContext.current().eventLoop().schedule(() -> {
            if (act != null) {
                act.run();
                delayed.start(new ServerCall.Listener<>() {});
            } else {
                delayed.start(next.startCall(call, headers));
            }
        }, current.delayMs(), TimeUnit.MILLISECONDS);
        return delayed;
    }

    /** A listener that holds the call's events until the delayed call starts, then passes them on. */
    private static final class Delayed<ReqT> extends ServerCall.Listener<ReqT> {
        private final List<Consumer<ServerCall.Listener<ReqT>>> pending = new ArrayList<>();
        @Nullable
        private ServerCall.Listener<ReqT> delegate;

        synchronized void start(ServerCall.Listener<ReqT> listener) {
            delegate = listener;
            pending.forEach(event -> event.accept(listener));
            pending.clear();
        }

        private synchronized void on(Consumer<ServerCall.Listener<ReqT>> event) {
            if (delegate == null) {
                pending.add(event);
            } else {
                event.accept(delegate);
            }
        }

        @Override
        public void onMessage(ReqT message) {
            on(l -> l.onMessage(message));
        }

        @Override
        public void onHalfClose() {
            on(ServerCall.Listener::onHalfClose);
        }

        @Override
        public void onCancel() {
            on(ServerCall.Listener::onCancel);
        }

        @Override
        public void onComplete() {
            on(ServerCall.Listener::onComplete);
        }

        @Override
        public void onReady() {
            on(ServerCall.Listener::onReady);
        }
    }
}
