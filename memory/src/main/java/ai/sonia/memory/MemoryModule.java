package ai.sonia.memory;

import java.nio.file.Path;
import java.time.Clock;

import com.linecorp.armeria.server.ServerListener;

import ai.sonia.memory.domain.Backups;
import ai.sonia.memory.domain.Embedder;
import ai.sonia.memory.domain.MemoryEngine;
import ai.sonia.memory.grpc.MemoryExceptionHandler;
import ai.sonia.memory.grpc.MemoryServiceImpl;
import ai.sonia.memory.store.Database;
import ai.sonia.runtime.ConfigSchema;
import ai.sonia.runtime.ServiceModule;
import ai.sonia.runtime.ServiceSpec;
import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.Stack;
import ai.sonia.runtime.StackConfig;

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
        final Database database = Database.open(dataDir.resolve("memory.db"), memoryConfig.readers(),
                                                memoryConfig.fullSync());
        final EmbeddingChoice embedding = EmbeddingChoice.from(memoryConfig.embedding(), config);
        embedding.checkLedger(database);
        final Embedder embedder = embedding.embedder(memoryConfig.embedderLoadTimeout());
        final MemoryEngine engine = new MemoryEngine(memoryConfig, database, embedder, embedding.dimensions(), clock);
        final Backups backups = new Backups(engine, dataDir.resolve("backups"));
        return SoniaServer.builder(spec(), config)
                          .addService(new MemoryServiceImpl(engine, backups))
                          .exceptionHandler(new MemoryExceptionHandler())
                          .useBlockingTaskExecutor(true)
                          .configure(sb -> sb.serverListener(ServerListener.builder()
                                  .whenStarted(started -> embedder.startLoading()).build()))
                          .readinessCheck("index", engine::indexProblem)
                          .readinessCheck("embedder", embedder::problem)
                          .configSummary("database", database.file())
                          .configSummary("embedding_model", embedder.model())
                          .configSummary("half_life_hours", memoryConfig.halfLife().toHours())
                          .closeOnStop(engine)
                          .closeOnStop(database)
                          .build();
    }
}
