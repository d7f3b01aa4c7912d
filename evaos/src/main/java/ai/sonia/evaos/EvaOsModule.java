package ai.sonia.evaos;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.databind.JsonNode;

import ai.sonia.evaos.domain.ApprovalEvents;
import ai.sonia.evaos.domain.ApprovalPolicy;
import ai.sonia.evaos.domain.Approvals;
import ai.sonia.evaos.domain.RiskClassifier;
import ai.sonia.evaos.grpc.EvaOsServiceImpl;
import ai.sonia.evaos.store.SqliteApprovalStore;
import ai.sonia.runtime.ConfigSchema;
import ai.sonia.runtime.ServiceModule;
import ai.sonia.runtime.ServiceSpec;
import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.Stack;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.Threads;
import ai.sonia.runtime.auth.StreamSlots;
import ai.sonia.runtime.status.DependencyProbe;

/**
 * Wires the evaos service: risk decisions, approvals and stack health. Settings in
 * {@code services.evaos}: {@code pendingTtlSeconds} (900), {@code grantTtlSeconds} (3600),
 * {@code refusalTtlSeconds} (86400), {@code maxTtlSeconds} (30 days), and {@code approvals}: who may approve
 * their own actions and how many watches a principal holds ({@link ApprovalPolicy}).
 */
public final class EvaOsModule implements ServiceModule {

    private static final Logger logger = LoggerFactory.getLogger(EvaOsModule.class);

    @Override
    public ConfigSchema configSchema() {
        return ConfigSchema.object("Risk decisions and approvals.")
                .field("pendingTtlSeconds", ConfigSchema.integer("How long an approval waits.", 900))
                .field("grantTtlSeconds", ConfigSchema.integer("How long a grant lasts.", 3600))
                .field("refusalTtlSeconds", ConfigSchema.integer("How long a refusal is remembered.", 86_400))
                .field("maxTtlSeconds", ConfigSchema.integer("The longest TTL a decision may ask for.", 30L * 86_400))
                .field("approvals", ConfigSchema.object("Who may decide, and approval streams.")
                        .field("selfApprove", ConfigSchema.map(
                                "Per tenant (\"*\" for every other): the highest risk a plain user may approve for"
                                + " themselves, NONE, MEDIUM or HIGH.", ConfigSchema.string("NONE, MEDIUM or HIGH.", "NONE")))
                        .field("maxStreamsPerPrincipal",
                               ConfigSchema.integer("Approval watch streams one principal may hold at once.", 8)));
    }

    @Override
    public ServiceSpec spec() {
        return Stack.EVAOS;
    }

    @Override
    public SoniaServer newServer(StackConfig config) {
        final JsonNode section = config.service("evaos");
        final Approvals.Ttls ttls = new Approvals.Ttls(
                Duration.ofSeconds(section.path("pendingTtlSeconds").asLong(900)),
                Duration.ofSeconds(section.path("grantTtlSeconds").asLong(3600)),
                Duration.ofSeconds(section.path("refusalTtlSeconds").asLong(86_400)),
                Duration.ofSeconds(section.path("maxTtlSeconds").asLong(30L * 86_400)));
        final SqliteApprovalStore store = new SqliteApprovalStore(config.dataDir("evaos").resolve("approvals.db"));
        final ApprovalEvents events = new ApprovalEvents();
        final ApprovalPolicy policy = ApprovalPolicy.from(section.path("approvals"));
        final Approvals approvals = new Approvals(new RiskClassifier(), store, events, ttls, policy,
                                                  Clock.systemUTC());
        final ScheduledExecutorService sweeper = Executors.newSingleThreadScheduledExecutor(Threads.factory("evaos-expiry"));
        sweeper.scheduleWithFixedDelay(() -> {
            try {
                approvals.expireDue();
            } catch (RuntimeException e) {
                logger.warn("expiry sweep failed", e);
            }
        }, 1, 1, TimeUnit.SECONDS);
        final List<ServiceSpec> others = Stack.SERVICES.stream().filter(s -> s != Stack.EVAOS).toList();
        final SoniaServer.Builder builder = SoniaServer.builder(spec(), config);
        // Approval series on /metrics: every change (CREATED, DECIDED, EXPIRED) by the state it left.
        events.subscribe((approval, change) -> io.micrometer.core.instrument.Counter
                .builder("sonia.evaos.approvals").description("Approval changes by kind and resulting state")
                .tags("change", change.name().substring("APPROVAL_CHANGE_".length()), "state", approval.getState().name())
                .register(builder.meterRegistry()).increment());
        builder.addService(new EvaOsServiceImpl(approvals, events, new DependencyProbe(config, Stack.EVAOS, others),
                                                new StreamSlots(policy.maxStreamsPerPrincipal())))
                           .useBlockingTaskExecutor(true)
                           .configSummary("pending_ttl_s", ttls.pending().toSeconds())
                           .configSummary("grant_ttl_s", ttls.grantDefault().toSeconds())
                           .configSummary("refusal_ttl_s", ttls.refusalDefault().toSeconds())
                           .configSummary("approvals.self_approve", policy.selfApprove().isEmpty()
                                                                    ? "admins decide" : policy.selfApprove())
                           .configSummary("approvals.max_streams_per_principal", policy.maxStreamsPerPrincipal())
                           .closeOnStop(sweeper::shutdownNow)
                           .closeOnStop(store);
        others.forEach(builder::dependency);
        return builder.build();
    }
}
