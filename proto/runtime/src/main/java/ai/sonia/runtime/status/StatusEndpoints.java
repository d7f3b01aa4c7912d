package ai.sonia.runtime.status;

import java.lang.management.ManagementFactory;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Timestamp;
import com.google.protobuf.util.JsonFormat;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServiceRequestContext;

import ai.sonia.common.v1.DependencyStatus;
import ai.sonia.common.v1.Healthz;
import ai.sonia.common.v1.ServiceStatus;
import ai.sonia.runtime.ServiceSpec;
import ai.sonia.runtime.edge.Envelopes;

/** {@code GET /healthz}, {@code GET /} and {@code GET /status} of one service. */
public final class StatusEndpoints {

    private static final JsonFormat.Printer printer =
            JsonFormat.printer().preservingProtoFieldNames().alwaysPrintFieldsWithNoPresence()
                      .omittingInsignificantWhitespace();
    private static final String VERSION = versionOf();
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ServiceSpec spec;
    private final Instant startTime = Instant.now();
    private final Supplier<Integer> port;
    private final List<String> grpcServices;
    private final Map<String, String> configSummary;
    private final Map<String, Supplier<?>> liveSummary;
    private final DependencyProbe dependencies;
    private final List<Supplier<DependencyStatus>> externals;

    /**
     * {@code liveSummary} holds the entries of the config summary read again on every {@code /status} (a count
     * of locked tenants, say); one that fails reads "unavailable: " and why.
     */
    public StatusEndpoints(ServiceSpec spec, Supplier<Integer> port, List<String> grpcServices,
                           Map<String, String> configSummary, Map<String, Supplier<?>> liveSummary,
                           DependencyProbe dependencies, List<Supplier<DependencyStatus>> externals) {
        this.externals = List.copyOf(externals);
        this.spec = spec;
        this.port = port;
        this.grpcServices = List.copyOf(grpcServices);
        this.configSummary = Map.copyOf(configSummary);
        this.liveSummary = Map.copyOf(liveSummary);
        this.dependencies = dependencies;
    }

    /** {@code {"ok":true,"service":"memory","timestamp":"2026-...Z"}}: answers at once, checks nothing slow. */
    public HttpService healthz() {
        return (ctx, req) -> json(Healthz.newBuilder().setOk(true).setService(spec.name())
                                         .setTimestamp(timestamp(Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MILLIS))).build());
    }

    /**
     * {@code GET /livez}: the process is alive and its event loop answers (the same body as
     * {@code /healthz}). Restart the process when this fails; nothing else is checked.
     */
    public HttpService livez() {
        return healthz();
    }

    /**
     * {@code GET /readyz}: 200 {@code {"ok":true,...,"reasons":[]}} when the service should get traffic,
     * else 503 with {@code "ok":false} and the reasons (a store that cannot write, an index still building,
     * a required dependency down).
     */
    public HttpService readyz(Readiness readiness) {
        return (ctx, req) -> HttpResponse.of(readiness.problems().thenApply(problems -> {
            final ObjectNode body = JSON.createObjectNode();
            body.put("ok", problems.isEmpty());
            body.put("service", spec.name());
            body.put("timestamp", Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MILLIS).toString());
            final ArrayNode reasons = body.putArray("reasons");
            problems.forEach(reasons::add);
            return HttpResponse.of(problems.isEmpty() ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE,
                                   MediaType.JSON_UTF_8, body.toString());
        }));
    }

    /** The root status: what this is and where to look next. */
    public HttpService root() {
        return (ctx, req) -> envelope(ctx, basic().build());
    }

    /** The detailed status, with a live probe of each dependency. */
    public HttpService status() {
        return (ctx, req) -> HttpResponse.of(dependencies.probeAll().thenApplyAsync(
                (List<DependencyStatus> deps) -> {
                    final ServiceStatus.Builder status = basic().putAllConfig(live()).addAllDependencies(deps);
                    externals.forEach(external -> status.addDependencies(external.get()));
                    return envelope(ctx, status.build());
                },
                ctx.blockingTaskExecutor()));
    }

    private Map<String, String> live() {
        final Map<String, String> values = new java.util.TreeMap<>();
        liveSummary.forEach((key, value) -> {
            try {
                values.put(key, String.valueOf(value.get()));
            } catch (RuntimeException e) {
                values.put(key, "unavailable: " + e.getMessage());
            }
        });
        return values;
    }

    private ServiceStatus.Builder basic() {
        return ServiceStatus.newBuilder()
                            .setService(spec.name())
                            .setVersion(VERSION)
                            .setStartTime(timestamp(startTime))
                            .setUptimeMs(java.time.Duration.between(startTime, Instant.now()).toMillis())
                            .setPort(port.get())
                            .addAllGrpcServices(grpcServices)
                            .putAllConfig(configSummary)
                            .setPid(ProcessHandle.current().pid());
    }

    private HttpResponse envelope(ServiceRequestContext ctx, Message message) {
        return Envelopes.success(ctx, spec.name(), print(message)).toHttpResponse();
    }

    private static HttpResponse json(Message message) {
        return HttpResponse.of(HttpStatus.OK, MediaType.JSON_UTF_8, print(message));
    }

    private static String print(Message message) {
        try {
            return printer.print(message);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Timestamp timestamp(Instant instant) {
        return Timestamp.newBuilder().setSeconds(instant.getEpochSecond()).setNanos(instant.getNano()).build();
    }

    private static String versionOf() {
        final String fromManifest = StatusEndpoints.class.getPackage().getImplementationVersion();
        return fromManifest != null ? fromManifest : "0.1.0-SNAPSHOT";
    }

    /** The JVM's uptime, for start-time reports. */
    public static long jvmUptimeMillis() {
        return ManagementFactory.getRuntimeMXBean().getUptime();
    }
}
