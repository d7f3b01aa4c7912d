package ai.sonia.runtime.status;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import com.google.protobuf.Timestamp;

import com.linecorp.armeria.client.WebClient;

import ai.sonia.common.v1.DependencyStatus;
import ai.sonia.runtime.ServiceSpec;
import ai.sonia.runtime.StackConfig;

/** Checks other services by their {@code /healthz}, concurrently, within a short timeout. */
public final class DependencyProbe {

    private static final long TIMEOUT_MS = 1_500;

    private final List<Target> targets;

    private record Target(ServiceSpec spec, String hostPort, WebClient client) {}

    public DependencyProbe(StackConfig config, List<ServiceSpec> dependencies) {
        final List<Target> list = new ArrayList<>();
        for (ServiceSpec spec : dependencies) {
            final String hostPort = config.target(spec);
            list.add(new Target(spec, hostPort, WebClient.builder("http://" + hostPort)
                                                         .responseTimeoutMillis(TIMEOUT_MS)
                                                         .build()));
        }
        targets = List.copyOf(list);
    }

    /** Probes every dependency; never fails, a failed probe is a status with {@code ok=false}. */
    public CompletableFuture<List<DependencyStatus>> probeAll() {
        final List<CompletableFuture<DependencyStatus>> probes = targets.stream().map(DependencyProbe::probe).toList();
        return CompletableFuture.allOf(probes.toArray(CompletableFuture[]::new))
                                .thenApply(unused -> probes.stream().map(CompletableFuture::join).toList());
    }

    /** A short reason: "connection refused", "timed out after 1500 ms", or the root cause's message. */
    static String describe(Throwable cause) {
        Throwable root = cause;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        if (root instanceof java.net.ConnectException || String.valueOf(root.getMessage()).contains("refused")) {
            return "connection refused";
        }
        if (root instanceof java.util.concurrent.TimeoutException
            || root.getClass().getSimpleName().contains("Timeout")) {
            return "timed out after " + TIMEOUT_MS + " ms";
        }
        return root.getClass().getSimpleName() + ": " + root.getMessage();
    }

    private static CompletableFuture<DependencyStatus> probe(Target target) {
        final long start = System.nanoTime();
        return target.client.get("/healthz").aggregate().handle((response, cause) -> {
            final Instant now = Instant.now();
            final DependencyStatus.Builder status =
                    DependencyStatus.newBuilder()
                                    .setName(target.spec.name())
                                    .setTarget(target.hostPort)
                                    .setLatencyMs((System.nanoTime() - start) / 1_000_000)
                                    .setCheckTime(Timestamp.newBuilder().setSeconds(now.getEpochSecond())
                                                           .setNanos(now.getNano()));
            if (cause != null) {
                return status.setOk(false).setError(describe(cause)).build();
            }
            final boolean ok = response.status().code() == 200;
            return status.setOk(ok).setError(ok ? "" : "HTTP " + response.status().code()).build();
        });
    }
}
