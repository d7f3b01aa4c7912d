package ai.sonia.evaos;

import java.time.Clock;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import ai.sonia.evaos.domain.ApprovalEvents;
import ai.sonia.evaos.domain.ApprovalPolicy;
import ai.sonia.evaos.domain.ApprovalStore;
import ai.sonia.evaos.domain.Approvals;
import ai.sonia.evaos.domain.RiskClassifier;
import ai.sonia.evaos.domain.Training;
import ai.sonia.evaos.domain.TrainingLocks;
import ai.sonia.evaos.grpc.EvaOsServiceImpl;
import ai.sonia.evaos.store.PostgresApprovalStore;
import ai.sonia.evaos.store.PostgresTrainingLocks;
import ai.sonia.evaos.store.RedisTrainingLocks;
import ai.sonia.evaos.store.SqliteApprovalStore;
import ai.sonia.evaos.store.SqliteTrainingLocks;
import ai.sonia.runtime.ConfigSchema;
import ai.sonia.runtime.ServiceModule;
import ai.sonia.runtime.ServiceSpec;
import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.Stack;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.Threads;
import ai.sonia.runtime.auth.StreamSlots;
import ai.sonia.runtime.cluster.SharedEngine;
import ai.sonia.runtime.status.DependencyProbe;
import ai.sonia.runtime.store.Postgres;

/**
 * Wires the evaos service: risk decisions, approvals and stack health. Settings in {@code services.evaos}
 * ({@link EvaOsConfig}).
 */
public final class EvaOsModule implements ServiceModule {

    private static final Logger logger = LoggerFactory.getLogger(EvaOsModule.class);

    @Override
    public ConfigSchema configSchema() {
        return ConfigSchema.of(EvaOsConfig.class);
    }

    @Override
    public ServiceSpec spec() {
        return Stack.EVAOS;
    }

    @Override
    public SoniaServer newServer(StackConfig config) {
        return newServer(config, Clock.systemUTC());
    }

    /** The server, with the clock of approvals and training locks (tests pass their own). */
    public SoniaServer newServer(StackConfig config, Clock clock) {
        final EvaOsConfig settings = config.service(spec().name(), EvaOsConfig.class);
        final Approvals.Ttls ttls = settings.ttls();
        // store.engine: the approvals in SQLite here, or on the PostgreSQL every replica shares (fails closed).
        final Postgres.Settings postgres = Postgres.from(config);
        final ApprovalStore store = postgres == null
                                    ? new SqliteApprovalStore(config.dataDir("evaos").resolve("approvals.db"))
                                    : PostgresApprovalStore.open(postgres);
        final ApprovalEvents events = new ApprovalEvents();
        final ApprovalPolicy policy = settings.approvals().policy();
        // Training locks: in Redis when the replicas share one; else where the approvals are.
        final TrainingLocks locks = SharedEngine.redis(config)
                .<TrainingLocks>map(redis -> new RedisTrainingLocks(redis, "sonia:evaos:training:"))
                .orElseGet(() -> postgres == null
                                 ? new SqliteTrainingLocks(config.dataDir("evaos").resolve("training.db"))
                                 : PostgresTrainingLocks.open(postgres));
        final Training training = new Training(locks, clock);
        final Approvals approvals = new Approvals(new RiskClassifier(), store, events, ttls, policy, training,
                                                  clock);
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
        // Approval series on /metrics: every change (CREATED, DECIDED, EXPIRED) made through this replica, by the
        // state it left (each replica counts its own, so their sums add up).
        events.subscribeOwn((approval, change) -> io.micrometer.core.instrument.Counter
                .builder("sonia.evaos.approvals").description("Approval changes by kind and resulting state")
                .tags("change", change.name().substring("APPROVAL_CHANGE_".length()), "state", approval.getState().name())
                .register(builder.meterRegistry()).increment());
        builder.addService(new EvaOsServiceImpl(approvals, training, events, new DependencyProbe(config, Stack.EVAOS, others),
                                                new StreamSlots(policy.maxStreamsPerPrincipal())))
                           .useBlockingTaskExecutor(true)
                           .configSummary("pending_ttl_s", ttls.pending().toSeconds())
                           .configSummary("grant_ttl_s", ttls.grantDefault().toSeconds())
                           .configSummary("refusal_ttl_s", ttls.refusalDefault().toSeconds())
                           .configSummary("approvals.self_approve", policy.selfApprove().isEmpty()
                                                                    ? "admins decide" : policy.selfApprove())
                           .configSummary("approvals.max_streams_per_principal", policy.maxStreamsPerPrincipal())
                           .liveSummary("training.locked_tenants", training::lockedTenants)
                           .closeOnStop(sweeper::shutdownNow)
                           .closeOnStop(store)
                           .closeOnStop(locks);
        others.forEach(builder::dependency);
        return builder.build();
    }
}
