package ai.sonia.memory;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;

import com.linecorp.armeria.server.ServerListener;

import ai.sonia.evaos.v1.EvaOsServiceGrpc;
import ai.sonia.memory.client.EvaOsTrainingGate;
import ai.sonia.memory.domain.AccessTracker;
import ai.sonia.memory.domain.AuditLog;
import ai.sonia.memory.domain.Backups;
import ai.sonia.memory.domain.Embedder;
import ai.sonia.memory.domain.Housekeeping;
import ai.sonia.memory.domain.MemoryEngine;
import ai.sonia.memory.domain.MemoryIndex;
import ai.sonia.memory.domain.MemoryStore;
import ai.sonia.memory.domain.SearchPipeline;
import ai.sonia.memory.domain.TrainingGate;
import ai.sonia.memory.domain.VectorIndex;
import ai.sonia.memory.grpc.MemoryServiceImpl;
import ai.sonia.memory.store.PostgresMemoryStore;
import ai.sonia.memory.store.SolrMemoryIndex;
import ai.sonia.memory.store.SqliteMemoryStore;
import ai.sonia.runtime.ConfigSchema;
import ai.sonia.runtime.ServiceModule;
import ai.sonia.runtime.ServiceSpec;
import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.Stack;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.StartupWork;
import ai.sonia.runtime.client.SoniaChannels;
import ai.sonia.runtime.store.Postgres;
import io.grpc.ManagedChannel;

/** Wires the memory service: the durable memory ledger and hybrid search. */
public final class MemoryModule implements ServiceModule {


    @Override
    public ConfigSchema configSchema() {
        return ConfigSchema.of(MemoryConfig.class);
    }

    @Override
    public ServiceSpec spec() {
        return Stack.MEMORY;
    }

    @Override
    public SoniaServer newServer(StackConfig config) {
        return newServer(config, Clock.systemUTC());
    }

    /** The server, with the clock that stamps and decays memories (tests pass their own). */
    public SoniaServer newServer(StackConfig config, Clock clock) {
        final MemoryConfig memoryConfig = config.service(spec().name(), MemoryConfig.class);
        final Path dataDir = config.dataDir(spec().name());
        // store.engine: the SQLite file of this machine, or the PostgreSQL every replica shares (fails closed).
        final Postgres.Settings postgres = Postgres.from(config);
        final MemoryConfig.Search searchConfig = memoryConfig.search();
        // A shared index (SolrCloud) is owed each write through the ledger's outbox; the in-process one is not.
        final boolean outbox = searchConfig.solrCloud();
        final MemoryStore store;
        final AuditLog auditLog;
        final Object database;
        if (postgres == null) {
            final SqliteMemoryStore sqlite = SqliteMemoryStore.open(dataDir.resolve("memory.db"),
                                                                    memoryConfig.readers(), memoryConfig.fullSync(),
                                                                    outbox);
            store = sqlite;
            auditLog = sqlite.auditLog();
            database = sqlite.file();
        } else {
            final PostgresMemoryStore shared = PostgresMemoryStore.open(postgres, outbox);
            store = shared;
            auditLog = shared.auditLog();
            database = shared.shownUrl();
        }
        final EmbeddingChoice embedding = EmbeddingChoice.from(memoryConfig.embedding(), config);
        embedding.checkLedger(store);
        final Embedder embedder = embedding.embedder(memoryConfig.embedderLoadTimeout(),
                                                    memoryConfig.embeddingThreads(), memoryConfig.embeddingBatch(),
                                                    memoryConfig.embeddingPadded());
        final MemoryIndex index = searchConfig.solrCloud()
                                  ? SolrMemoryIndex.connect(searchConfig.solr(), embedding.dimensions(), store)
                                  : new VectorIndex(embedding.dimensions(), memoryConfig.approximateAbove());
        final AccessTracker accesses = new AccessTracker();
        final ManagedChannel evaos = memoryConfig.training().enforce()
                                     ? SoniaChannels.forService(config, spec(), Stack.EVAOS) : null;
        final TrainingGate training = evaos == null ? TrainingGate.OFF
                : new EvaOsTrainingGate(EvaOsServiceGrpc.newBlockingStub(evaos),
                                        Duration.ofMillis(memoryConfig.training().cacheMs()), clock);
        final MemoryEngine engine = new MemoryEngine(memoryConfig, store, auditLog, embedder, index, accesses,
                                                     training, clock);
        final SearchPipeline search = new SearchPipeline(memoryConfig, store, embedder, index, accesses, clock);
        final Housekeeping housekeeping = new Housekeeping(memoryConfig, store, accesses, clock,
                                                           () -> index.load(store), index::followChanges);
        final Backups backups = new Backups(store, auditLog, index, clock,
                                            dataDir.resolve("backups"));
        final SoniaServer.Builder builder = SoniaServer.builder(spec(), config);
        if (evaos != null) {
            builder.dependency(Stack.EVAOS).closeOnStop(() -> SoniaChannels.close(evaos));
        }
        return builder
                          .addService(new MemoryServiceImpl(engine, search, backups))
                          .useBlockingTaskExecutor(true)
                          .configure(sb -> sb.serverListener(ServerListener.builder()
                                  .whenStarted(started -> StartupWork.afterStart(embedder::startLoading)).build()))
                          .readinessCheck("index", index::problem)
                          .readinessCheck("ledger", index::feedProblem)
                          .readinessCheck("embedder", embedder::problem)
                          .configSummary("database", database)
                          .configSummary("embedding_model", embedder.model())
                          .configSummary("search_engine", searchConfig.solrCloud()
                                                          ? "solr (" + searchConfig.solr().zkHost() + ", collection "
                                                            + searchConfig.solr().collection() + ')'
                                                          : "lucene (in-process)")
                          .configSummary("half_life_hours", memoryConfig.halfLife().toHours())
                          .configSummary("training.enforce", memoryConfig.training().enforce()
                                                             ? "on (asks evaos)" : "off (services.memory.training.enforce)")
                          .closeOnStop(housekeeping)
                          .closeOnStop(embedder)
                          .closeOnStop(index)
                          .closeOnStop(store)
                          .build();
    }
}
