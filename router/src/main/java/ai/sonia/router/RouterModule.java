package ai.sonia.router;

import ai.sonia.router.grpc.RouterServiceImpl;
import ai.sonia.runtime.ServiceModule;
import ai.sonia.runtime.ServiceSpec;
import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.Stack;
import ai.sonia.runtime.StackConfig;

/** Wires the router service: routing over LLM providers, embeddings and the ledger. */
public final class RouterModule implements ServiceModule {

    @Override
    public ServiceSpec spec() {
        return Stack.ROUTER;
    }

    @Override
    public SoniaServer newServer(StackConfig config) {
        return SoniaServer.builder(spec(), config)
                          .addService(new RouterServiceImpl())
                          .build();
    }
}
