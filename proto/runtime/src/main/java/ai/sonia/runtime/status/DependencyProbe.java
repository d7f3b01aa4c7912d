package ai.sonia.runtime.status;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import com.google.common.util.concurrent.FutureCallback;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.MoreExecutors;
import com.google.protobuf.Timestamp;

import ai.sonia.common.v1.DependencyStatus;
import ai.sonia.runtime.ServiceSpec;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.client.SoniaChannels;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;

/**
 * Checks other services with the standard {@code grpc.health.v1.Health/Check}, concurrently, within a
 * short deadline, through the same channels as every other call (so the probe carries the correlation
 * id into the other service's logs).
 */
public final class DependencyProbe implements AutoCloseable {

    static final long TIMEOUT_MS = 1_500;

    private final List<Target> targets;
    private final Function<String, String> circuitStates;

    /** A dependency; its channel is made on the first probe, so nothing of it loads at start-up. */
    private static final class Target {
        final StackConfig config;
        final ServiceSpec spec;
        final String hostPort;
        final io.grpc.ClientInterceptor credentials;
        private ManagedChannel channel;

        Target(StackConfig config, ServiceSpec spec, String hostPort, io.grpc.ClientInterceptor credentials) {
            this.config = config;
            this.spec = spec;
            this.hostPort = hostPort;
            this.credentials = credentials;
        }

        synchronized ManagedChannel channel() {
            if (channel == null) {
                channel = SoniaChannels.forTarget(config, hostPort, spec, credentials);
            }
            return channel;
        }

        synchronized void close() {
            if (channel != null) {
                SoniaChannels.close(channel);
            }
        }
    }

    public DependencyProbe(StackConfig config, ServiceSpec caller, List<ServiceSpec> dependencies) {
        this(config, caller, dependencies, name -> "");
    }

    /** A probe that also reports each dependency's circuit state, as given by {@code circuitStates}. */
    public DependencyProbe(StackConfig config, ServiceSpec caller, List<ServiceSpec> dependencies,
                           Function<String, String> circuitStates) {
        this.circuitStates = circuitStates;
        final List<Target> list = new ArrayList<>();
        final io.grpc.ClientInterceptor credentials = SoniaChannels.credentials(config, caller.name());
        for (ServiceSpec spec : dependencies) {
            list.add(new Target(config, spec, config.target(spec), credentials));
        }
        targets = List.copyOf(list);
    }

    /** Probes every dependency; never fails: a failed probe is a status with {@code ok=false}. */
    public CompletableFuture<List<DependencyStatus>> probeAll() {
        final List<CompletableFuture<DependencyStatus>> probes = targets.stream().map(this::probe).toList();
        return CompletableFuture.allOf(probes.toArray(CompletableFuture[]::new))
                                .thenApply(unused -> probes.stream().map(CompletableFuture::join).toList());
    }

    private CompletableFuture<DependencyStatus> probe(Target target) {
        final long start = System.nanoTime();
        final CompletableFuture<DependencyStatus> result = new CompletableFuture<>();
        final String circuit = circuitStates.apply(target.spec.name());
        final var call = HealthGrpc.newFutureStub(target.channel())
                                   .withDeadlineAfter(TIMEOUT_MS, TimeUnit.MILLISECONDS)
                                   .check(HealthCheckRequest.getDefaultInstance());
        Futures.addCallback(call, new FutureCallback<>() {
            @Override
            public void onSuccess(HealthCheckResponse response) {
                final boolean serving = response.getStatus() == HealthCheckResponse.ServingStatus.SERVING;
                final boolean degraded = serving && tripped(circuit);
                result.complete(status(target, start).setOk(serving && !degraded).setDegraded(degraded)
                                                     .setCircuitState(circuit)
                                                     .setError(!serving ? response.getStatus().name()
                                                               : degraded ? circuitError(circuit) : "")
                                                     .build());
            }

            @Override
            public void onFailure(Throwable cause) {
                result.complete(status(target, start).setOk(false).setCircuitState(circuit)
                                                     .setError(describe(cause)).build());
            }
        }, MoreExecutors.directExecutor());
        return result;
    }

    /** Whether the caller's circuit to a dependency lets calls fail fast or only a trial through. */
    private static boolean tripped(String circuit) {
        return !circuit.isEmpty() && !"CLOSED".equals(circuit);
    }

    private static String circuitError(String circuit) {
        return "HALF_OPEN".equals(circuit) ? "circuit HALF_OPEN: a trial call decides whether calls go through again"
                                           : "circuit " + circuit + ": calls fail fast until a trial call succeeds";
    }

    private static DependencyStatus.Builder status(Target target, long startNanos) {
        final Instant now = Instant.now();
        return DependencyStatus.newBuilder()
                               .setName(target.spec.name())
                               .setTarget(target.hostPort)
                               .setLatencyMs((System.nanoTime() - startNanos) / 1_000_000)
                               .setCheckTime(Timestamp.newBuilder().setSeconds(now.getEpochSecond())
                                                      .setNanos(now.getNano()));
    }

    /** A short reason: "UNAVAILABLE: connection refused", "DEADLINE_EXCEEDED after 1500 ms", ... */
    static String describe(Throwable cause) {
        final Status status = Status.fromThrowable(cause);
        if (status.getCode() == Status.Code.DEADLINE_EXCEEDED) {
            return "DEADLINE_EXCEEDED after " + TIMEOUT_MS + " ms";
        }
        Throwable root = cause;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        final String detail = String.valueOf(root.getMessage()).contains("refused") ? "connection refused"
                                                                                   : String.valueOf(root.getMessage());
        return status.getCode() + ": " + detail;
    }

    @Override
    public void close() {
        targets.forEach(Target::close);
    }
}
