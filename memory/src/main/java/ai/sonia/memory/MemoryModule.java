package ai.sonia.memory;

import ai.sonia.memory.grpc.MemoryServiceImpl;
import ai.sonia.runtime.ServiceModule;
import ai.sonia.runtime.ServiceSpec;
import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.Stack;
import ai.sonia.runtime.StackConfig;

/** Wires the memory service: the durable memory ledger and hybrid search. */
public final class MemoryModule implements ServiceModule {

    @Override
    public ServiceSpec spec() {
        return Stack.MEMORY;
    }

    @Override
    public SoniaServer newServer(StackConfig config) {
        return SoniaServer.builder(spec(), config)
                          .addService(new MemoryServiceImpl())
                          .build();
    }
}
