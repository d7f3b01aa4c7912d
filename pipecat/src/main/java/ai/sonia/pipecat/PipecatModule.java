package ai.sonia.pipecat;

import ai.sonia.pipecat.grpc.PipecatServiceImpl;
import ai.sonia.runtime.ServiceModule;
import ai.sonia.runtime.ServiceSpec;
import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.Stack;
import ai.sonia.runtime.StackConfig;

/** Wires the pipecat service: sessions, event streams and voice. */
public final class PipecatModule implements ServiceModule {

    @Override
    public ServiceSpec spec() {
        return Stack.PIPECAT;
    }

    @Override
    public SoniaServer newServer(StackConfig config) {
        return SoniaServer.builder(spec(), config)
                          .addService(new PipecatServiceImpl())
                          .dependency(Stack.GATEWAY)
                          .build();
    }
}
