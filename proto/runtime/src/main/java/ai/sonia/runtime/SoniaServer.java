package ai.sonia.runtime;

import static com.linecorp.armeria.server.grpc.HttpJsonTranscodingQueryParamMatchRule.LOWER_CAMEL_CASE;
import static com.linecorp.armeria.server.grpc.HttpJsonTranscodingQueryParamMatchRule.ORIGINAL_FIELD;
import static java.util.Objects.requireNonNull;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;

import com.linecorp.armeria.common.Flags;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.grpc.GrpcExceptionHandlerFunction;
import com.linecorp.armeria.common.grpc.GrpcJsonMarshaller;
import com.linecorp.armeria.common.grpc.GrpcSerializationFormats;
import com.linecorp.armeria.common.util.ThreadFactories;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.Route;
import com.linecorp.armeria.server.Server;
import com.linecorp.armeria.server.ServerBuilder;
import com.linecorp.armeria.server.ServiceOptions;
import com.linecorp.armeria.server.ServiceRequestContext;
import com.linecorp.armeria.server.SimpleDecoratingHttpService;
import com.linecorp.armeria.server.grpc.GrpcService;
import com.linecorp.armeria.server.grpc.GrpcServiceBuilder;
import com.linecorp.armeria.server.grpc.HttpJsonTranscodingOptions;
import com.linecorp.armeria.server.metric.MetricCollectingService;
import com.linecorp.armeria.server.prometheus.PrometheusExpositionService;

import ai.sonia.runtime.auth.AuthDecorator;
import ai.sonia.runtime.auth.Authenticator;
import ai.sonia.runtime.edge.EnvelopeServerErrorHandler;
import ai.sonia.runtime.edge.HttpPolicy;
import ai.sonia.runtime.edge.RestEnvelopeDecorator;
import ai.sonia.runtime.edge.SecurityHeaders;
import ai.sonia.runtime.edge.TranscodingErrorHandler;
import ai.sonia.runtime.limits.Bucket4jRateLimiter;
import ai.sonia.runtime.limits.RateLimitDecorator;
import ai.sonia.runtime.limits.RateLimiter;
import ai.sonia.runtime.limits.RateLimits;
import ai.sonia.runtime.status.DependencyProbe;
import ai.sonia.runtime.status.EngineCheck;
import ai.sonia.runtime.status.Readiness;
import ai.sonia.runtime.status.StatusEndpoints;
import ai.sonia.runtime.tls.ServerTls;
import ai.sonia.runtime.tls.TlsMaterial;
import ai.sonia.runtime.tracing.Tracing;
import io.grpc.BindableService;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.grpc.stub.StreamObserver;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;

/**
 * One Sonia service on its port: its gRPC services with gRPC-Web and HTTP/JSON transcoding, server
 * reflection (v1 and v1alpha), {@code grpc.health.v1.Health}, {@code /healthz}, {@code /livez},
 * {@code /readyz} (and the seed's {@code /health}, {@code /ready}), {@code /},
 * {@code /status}, {@code /metrics} and {@code /docs}, behind the correlation id and the envelope edge.
 * Every service is started through this class, so none wires these by hand.
 */
public final class SoniaServer implements AutoCloseable {

    private static final Logger logger = LoggerFactory.getLogger(SoniaServer.class);
    private static final GrpcJsonMarshaller REST_JSON =
            GrpcJsonMarshaller.builderForGson()
                              .jsonPrinterCustomizer((JsonFormat.Printer p) -> p.preservingProtoFieldNames()
                                                                                .alwaysPrintFieldsWithNoPresence())
                              // Armeria's default parser ignores unknown fields; a typo must be an error.
                              .jsonParserCustomizer((JsonFormat.Parser p) -> JsonFormat.parser())
                              .build();

    private final ServiceSpec spec;
    private final Server server;
    private final List<AutoCloseable> resources;
    private final List<com.google.protobuf.Descriptors.ServiceDescriptor> contract;
    private final Map<String, String> configSummary;

    private SoniaServer(ServiceSpec spec, Server server, List<AutoCloseable> resources,
                        List<com.google.protobuf.Descriptors.ServiceDescriptor> contract,
                        Map<String, String> configSummary) {
        this.spec = spec;
        this.server = server;
        this.resources = resources;
        this.contract = contract;
        this.configSummary = configSummary;
    }

    /**
     * The {@code "shutdown"} section: how a stopping server (SIGTERM, a restart) lets in-flight requests finish.
     * The test kit sets both to 0, so that its servers stop at once; a stack keeps the defaults.
     */
    @ConfigKey("How a stopping service lets its in-flight requests finish.")
    public record Shutdown(
            @ConfigKey(value = "Milliseconds without a new request before the server stops (0: it stops at once, "
                               + "cutting in-flight requests).", def = "500") long quietPeriodMs,
            @ConfigKey(value = "The longest wait for in-flight requests, in milliseconds.", def = "5000")
            long timeoutMs,
            @ConfigKey(value = "Milliseconds an open HTTP/2 connection is given between the server's first GOAWAY "
                               + "and its close.", shown = "Armeria's default (1000)") Long drainMs) {}

    /** Starts building the server of the service described by {@code spec}. */
    public static Builder builder(ServiceSpec spec, StackConfig config) {
        return new Builder(spec, config);
    }

    /** Starts the server and waits until it listens. */
    public SoniaServer start() {
        final long startNanos = System.nanoTime();
        try (MDC.MDCCloseable ignored = MDC.putCloseable("service", spec.name())) {
            server.start().join();
            logger.atInfo().addKeyValue("port", port())
                  .addKeyValue("start_ms", (System.nanoTime() - startNanos) / 1_000_000)
                  .log("{} listening on {}", spec.name(), port());
        }
        return this;
    }

    /** The port it actually listens on (useful when the configured port was 0). */
    public int port() {
        return server.activeLocalPort();
    }

    /** The service's contract. */
    public ServiceSpec spec() {
        return spec;
    }

    /** The configuration summary its {@code /status} shows (bind, tls, the service's own keys). */
    public Map<String, String> configSummary() {
        return configSummary;
    }

    /** Every HTTP route it serves (gRPC, REST, WebSocket, status), for tests that must cover them all. */
    public List<Route> routes() {
        return server.serviceConfigs().stream().map(com.linecorp.armeria.server.ServiceConfig::route).toList();
    }

    /** The proto services it serves (its own API and the standard ones), as declared in the contract. */
    public List<com.google.protobuf.Descriptors.ServiceDescriptor> grpcContract() {
        return contract;
    }

    /** Stops gracefully: in-flight requests finish, new ones are refused, then resources close. */
    @Override
    public void close() {
        try (MDC.MDCCloseable ignored = MDC.putCloseable("service", spec.name())) {
            server.stop().join();
            for (AutoCloseable resource : resources) {
                try {
                    resource.close();
                } catch (Exception e) {
                    logger.warn("Failed to close {}", resource, e);
                }
            }
            logger.info("{} stopped", spec.name());
        }
    }

    /**
     * Makes a plain Armeria server (a test's fake) stop at once, as a {@code SoniaServer} does with a
     * {@code "shutdown"} section of zeros: no quiet period, no wait for in-flight requests, no connection drain.
     */
    public static ServerBuilder stopAtOnce(ServerBuilder sb) {
        sb.gracefulShutdownTimeout(Duration.ZERO, Duration.ZERO).connectionDrainDuration(Duration.ZERO);
        quickBossGroups(sb);
        return sb;
    }

    /**
     * The accepting thread closes at once: Armeria's own boss groups stop through Netty's
     * {@code shutdownGracefully()}, which waits a fixed 2 s quiet period first. It protects nothing: the boss
     * group is shut down after the server has stopped accepting and its in-flight requests had their own quiet
     * period ({@link Shutdown}).
     */
    private static void quickBossGroups(ServerBuilder sb) {
        final IoHandlerFactory io;
        try {
            // The transport Armeria's workers use (epoll's classes are on the run-time class path only).
            io = switch (Flags.transportType()) {
                case NIO -> NioIoHandler.newFactory();
                case EPOLL -> (IoHandlerFactory) Class.forName("io.netty.channel.epoll.EpollIoHandler")
                                                      .getMethod("newFactory").invoke(null);
                default -> null;
            };
        } catch (ReflectiveOperationException e) {
            return; // Armeria's boss groups, and their quiet period
        }
        if (io == null) {
            return;
        }
        sb.bossGroupFactory(name -> new MultiThreadIoEventLoopGroup(
                1, ThreadFactories.newEventLoopThreadFactory("armeria-boss-" + name, false), io) {
            @Override
            public io.netty.util.concurrent.Future<?> shutdownGracefully() {
                return shutdownGracefully(0, 5, java.util.concurrent.TimeUnit.SECONDS);
            }
        });
    }

    /**
     * A call that ends while its client is still sending (a rejected client or bidi stream) ends with its
     * status in trailers. Armeria's default then resets the stream at once (RST_STREAM CANCEL), and a client
     * that reads the reset before the trailers (Python grpcio, often) reports CANCELLED instead of the status.
     * Delaying the reset lets the client read the trailers and end the stream itself, as grpc-java servers do.
     */
    private static final class TrailersFirst extends SimpleDecoratingHttpService {
        private static final ServiceOptions OPTIONS =
                ServiceOptions.builder().closeHttp2StreamDelayMillis(5_000).build();

        TrailersFirst(HttpService delegate) {
            super(delegate);
        }

        @Override
        public HttpResponse serve(ServiceRequestContext ctx, HttpRequest req) throws Exception {
            return unwrap().serve(ctx, req);
        }

        @Override
        public ServiceOptions options() {
            return OPTIONS;
        }
    }

    /** Builds a {@link SoniaServer}. */
    public static final class Builder {
        private final ServiceSpec spec;
        private final StackConfig config;
        private final List<BindableService> services = new ArrayList<>();
        private final List<ServerServiceDefinition> definitions = new ArrayList<>();
        private final List<ServiceSpec> dependencies = new ArrayList<>();
        private final List<ServiceSpec> requiredDependencies = new ArrayList<>();
        private final List<java.util.function.Supplier<ai.sonia.common.v1.DependencyStatus>> externalDependencies =
                new ArrayList<>();
        private final Map<String, Readiness.Check> readinessChecks = new LinkedHashMap<>();
        private final Map<String, String> configSummary = new LinkedHashMap<>();
        private final Map<String, java.util.function.Supplier<?>> liveSummary = new LinkedHashMap<>();
        private final List<Consumer<ServerBuilder>> customizers = new ArrayList<>();
        private final List<AutoCloseable> resources = new ArrayList<>();
        private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        private GrpcExceptionHandlerFunction exceptionHandler;
        private boolean blocking;
        private DependencyProbe probe;
        private Authenticator authenticator;
        private com.linecorp.armeria.server.DecoratingHttpServiceFunction credentialDecorator;

        private Builder(ServiceSpec spec, StackConfig config) {
            this.spec = requireNonNull(spec, "spec");
            this.config = requireNonNull(config, "config");
            exceptionHandler = new DefaultExceptionHandler(spec.name());
        }

        /** Adds a gRPC service implementation. */
        public Builder addService(BindableService service) {
            services.add(requireNonNull(service, "service"));
            return this;
        }

        /** Adds an intercepted gRPC service definition. */
        public Builder addService(ServerServiceDefinition definition) {
            definitions.add(requireNonNull(definition, "definition"));
            return this;
        }

        /** Maps the service's domain exceptions to statuses; the default mapping applies after it. */
        public Builder exceptionHandler(GrpcExceptionHandlerFunction handler) {
            exceptionHandler = requireNonNull(handler, "handler").orElse(new DefaultExceptionHandler(spec.name()));
            return this;
        }

        /**
         * Serves the server-streaming {@code method} also at its contract's POST binding as Server-Sent Events,
         * through the same {@code handler} as gRPC (see {@link ServerStreamSse}): {@code service::streamX}.
         */
        public <I extends Message, O extends Message> Builder serverSentEvents(
                MethodDescriptor<I, O> method, BiConsumer<I, StreamObserver<O>> handler) {
            requireNonNull(method, "method");
            requireNonNull(handler, "handler");
            final String path = ServerStreamSse.postPath(method);
            customizers.add(sb -> sb.service(Route.builder().exact(path).methods(HttpMethod.POST).build(),
                                             ServerStreamSse.of(spec, method, handler, exceptionHandler)));
            return this;
        }

        /** Runs gRPC methods on the blocking executor (for services that touch disk or processes). */
        public Builder useBlockingTaskExecutor(boolean blocking) {
            this.blocking = blocking;
            return this;
        }

        /** Declares a downstream service; {@code /status} probes it. */
        public Builder dependency(ServiceSpec dependency) {
            dependencies.add(requireNonNull(dependency, "dependency"));
            return this;
        }

        /**
         * Declares a downstream service without which this one cannot do its work: {@code /status} probes it,
         * and {@code /readyz} is false while it is down.
         */
        public Builder requiredDependency(ServiceSpec dependency) {
            if (!dependencies.contains(dependency)) {
                dependency(dependency);
            }
            requiredDependencies.add(dependency);
            return this;
        }

        /**
         * Adds a condition of {@code /readyz} (an index that is still building, an engine still loading).
         * The service's stores need none: a database under its data directory that cannot write makes it
         * unready by itself.
         */
        public Builder readinessCheck(String name, Readiness.Check check) {
            readinessChecks.put(requireNonNull(name, "name"), requireNonNull(check, "check"));
            return this;
        }

        /**
         * Declares a dependency that is not a Sonia service (a Kafka cluster, say): {@code /status} lists what
         * {@code status} says at each request, after the probed services. It must answer at once.
         */
        public Builder externalDependency(java.util.function.Supplier<ai.sonia.common.v1.DependencyStatus> status) {
            externalDependencies.add(requireNonNull(status, "status"));
            return this;
        }

        /** Uses this probe for {@code /status} (one that knows circuit states, say) instead of a plain one. */
        public Builder dependencyProbe(DependencyProbe probe) {
            this.probe = requireNonNull(probe, "probe");
            return this;
        }

        /** Authenticates requests with this (one that also knows API keys and logouts, say). */
        public Builder authenticator(Authenticator authenticator) {
            this.authenticator = requireNonNull(authenticator, "authenticator");
            return this;
        }

        /**
         * Runs {@code decorator} just before authentication (inside the security headers): one that turns
         * another kind of credential (the gateway console's session cookie) into {@code Authorization}.
         */
        public Builder credentialDecorator(com.linecorp.armeria.server.DecoratingHttpServiceFunction decorator) {
            credentialDecorator = requireNonNull(decorator, "decorator");
            return this;
        }

        /** The registry behind {@code /metrics}, for the service's own meters. */
        public PrometheusMeterRegistry meterRegistry() {
            return registry;
        }

        /** Adds an entry to the config summary of {@code /status}. Never pass a secret. */
        public Builder configSummary(String key, Object value) {
            configSummary.put(key, String.valueOf(value));
            return this;
        }

        /**
         * Adds an entry to the config summary of {@code /status} that is read again on every request (a live
         * count). Never pass a secret.
         */
        public Builder liveSummary(String key, java.util.function.Supplier<?> value) {
            liveSummary.put(requireNonNull(key, "key"), requireNonNull(value, "value"));
            return this;
        }

        /** Adds routes or settings of the service's own (WebSocket, SSE, ...). */
        public Builder configure(Consumer<ServerBuilder> customizer) {
            customizers.add(requireNonNull(customizer, "customizer"));
            return this;
        }

        /** Closes the resource after the server stopped (stores, executors). */
        public Builder closeOnStop(AutoCloseable resource) {
            resources.add(requireNonNull(resource, "resource"));
            return this;
        }

        /** Builds the server; nothing listens until {@link SoniaServer#start()}. */
        public SoniaServer build() {
            final int port = config.port(spec);
            final ServerBuilder sb = Server.builder();
            final TlsMaterial tls = ServerTls.listen(sb, new InetSocketAddress(config.bindAddress(), port), spec, config);
            final Shutdown shutdown = config.section("shutdown", Shutdown.class);
            sb.gracefulShutdownTimeout(Duration.ofMillis(shutdown.quietPeriodMs()),
                                       Duration.ofMillis(Math.max(shutdown.quietPeriodMs(), shutdown.timeoutMs())));
            if (shutdown.drainMs() != null) {
                sb.connectionDrainDuration(Duration.ofMillis(shutdown.drainMs()));
            }
            quickBossGroups(sb);
            sb.requestTimeout(Duration.ofSeconds(60));
            sb.errorHandler(new EnvelopeServerErrorHandler(spec.name()));

            sb.meterRegistry(registry);

            final GrpcServiceBuilder grpc =
                    GrpcService.builder()
                               .supportedSerializationFormats(GrpcSerializationFormats.values())
                               .enableHttpJsonTranscoding(
                                       HttpJsonTranscodingOptions.builder()
                                                                 .queryParamMatchRules(ORIGINAL_FIELD, LOWER_CAMEL_CASE)
                                                                 .errorHandler(new TranscodingErrorHandler(spec.name()))
                                                                 .build())
                               // REST bodies use the proto field names (tool_name, session_id), like the envelope,
                               // print default values, and reject unknown fields instead of dropping them.
                               // (protobuf's JsonFormat: no per-message bytecode generation at start-up.)
                               .jsonMarshallerFactory(descriptor -> REST_JSON)
                               .enableHealthCheckService(true)
                               .exceptionHandler(exceptionHandler)
                               .useBlockingTaskExecutor(blocking)
                               // Interceptors run last-added first: the tracing span wraps the deadline.
                               .intercept(new ContractDeadlineInterceptor(spec), Tracing.get().serverInterceptor())
                               .addService(ProtoReflectionServiceV1.newInstance());
            final List<ServerServiceDefinition> listed = new ArrayList<>(definitions);
            services.forEach(s -> listed.add(s.bindService()));
            final FaultInjector faults = FaultInjector.install(config, spec);
            if (faults.active()) {
                logger.warn("{}: fault injection is on", spec.name());
            }
            listed.replaceAll(definition -> io.grpc.ServerInterceptors.intercept(definition, faults));
            listed.forEach(grpc::addService);
            grpc.addService(ReflectionV1Alpha.definition(listed));
            final GrpcService grpcService = grpc.build();
            final RestEnvelopeDecorator envelope = new RestEnvelopeDecorator(spec.name());
            sb.service(grpcService, delegate -> new TrailersFirst(delegate.decorate(envelope)));

            final List<String> grpcNames = grpcService.services().stream()
                                                      .map(d -> d.getServiceDescriptor().getName())
                                                      .sorted().toList();
            final Server[] self = new Server[1];
            if (probe == null) {
                probe = new DependencyProbe(config, spec, dependencies);
                resources.add(probe);
            }
            final RateLimits rateLimits = RateLimits.from(config.serviceKeys(spec).rateLimits());
            final Map<String, String> summary = summary(port, tls);
            summary.put("rate_limits", rateLimits.toString());
            final StatusEndpoints status = new StatusEndpoints(
                    spec, () -> self[0] == null ? port : self[0].activeLocalPort(), grpcNames, summary, liveSummary,
                    probe, externalDependencies);
            DependencyProbe requiredProbe = null;
            if (!requiredDependencies.isEmpty()) {
                requiredProbe = new DependencyProbe(config, spec, requiredDependencies);
                resources.add(requiredProbe);
            }
            // The engines the config puts the service's state on (PostgreSQL, Redis) must answer too.
            EngineCheck.of(config).forEach(check -> readinessChecks.putIfAbsent(check.engine(), check));
            final Readiness readiness = new Readiness(config.dataDir(spec.name()), readinessChecks, requiredProbe);
            sb.service("/healthz", status.healthz());
            sb.service("/livez", status.livez());
            sb.service("/readyz", status.readyz(readiness));
            // The seed's names for the same probes.
            sb.service("/health", status.livez());
            sb.service("/ready", status.readyz(readiness));
            sb.service("/", status.root());
            sb.service("/status", status.status());
            sb.service("/metrics", PrometheusExpositionService.of(registry.getPrometheusRegistry()));
            sb.serviceUnder("/docs", new LazyDocService());

            customizers.forEach(c -> c.accept(sb));
            // Inside authentication (added after it), so that the principal is known. The front door's buckets are
            // the cluster's (in Redis with shared.engine redis: a client may come in through any replica); behind
            // it a limit guards one process's CPU from callers that reach it directly, so its buckets are that
            // process's own, and a Redis outage does not stop what needs no Redis there (pipecat's sessions).
            final boolean frontDoor = spec.equals(Stack.GATEWAY);
            sb.decorator(new RateLimitDecorator(spec.name(), frontDoor, rateLimits,
                                                frontDoor ? RateLimiter.of(config, spec.name())
                                                          : new Bucket4jRateLimiter()));

            // Decorators added later wrap the earlier ones: correlation is outermost, then CORS (a preflight
            // carries no credential), metrics and headers, and authentication right around the services.
            final List<com.google.protobuf.Descriptors.ServiceDescriptor> contract =
                    listed.stream().map(d -> d.getServiceDescriptor().getSchemaDescriptor())
                          .filter(io.grpc.protobuf.ProtoServiceDescriptorSupplier.class::isInstance)
                          .map(d -> ((io.grpc.protobuf.ProtoServiceDescriptorSupplier) d).getServiceDescriptor())
                          .toList();
            sb.decorator(new AuthDecorator(spec.name(),
                                           authenticator != null ? authenticator : Authenticator.of(config), contract,
                                           ai.sonia.runtime.auth.Secrets.metricsToken(config)));
            if (credentialDecorator != null) {
                sb.decorator(credentialDecorator);
            }
            final HttpPolicy http = HttpPolicy.from(config);
            sb.decorator(new SecurityHeaders(http.securityHeaders()));
            sb.decorator(MetricCollectingService.newDecorator(new RequestMetrics()));
            final var cors = http.corsDecorator();
            if (cors != null) {
                sb.decorator(cors);
            }
            final var peerCertificate = ServerTls.peerCertificateCheck(spec, config);
            if (peerCertificate != null) {
                sb.decorator(peerCertificate);
            }
            sb.decorator(new CorrelationDecorator(spec.name()));
            self[0] = sb.build();
            resources.add(registry::close);
            return new SoniaServer(spec, self[0], List.copyOf(resources), contract, java.util.Collections.unmodifiableMap(summary));
        }

        private Map<String, String> summary(int port, TlsMaterial tls) {
            final Map<String, String> summary = new LinkedHashMap<>();
            summary.put("bind", config.bindAddress());
            summary.put("tls", tls == null ? "off" : "on, certificate SHA-256 " + tls.fingerprint());
            summary.put("auth", "required (Authorization: Bearer), but for /healthz, /livez and /readyz");
            summary.put("configured_port", String.valueOf(port));
            summary.put("home", config.home().toString());
            dependencies.forEach(d -> summary.put("target." + d.name(), config.target(d)));
            summary.putAll(configSummary);
            return summary;
        }
    }
}
