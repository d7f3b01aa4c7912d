package ai.sonia.openclaw;

import ai.sonia.openclaw.grpc.OpenClawServiceImpl;
import ai.sonia.runtime.ServiceModule;
import ai.sonia.runtime.ServiceSpec;
import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.Stack;
import ai.sonia.runtime.StackConfig;

/** Wires the openclaw service: the tool catalog and sandboxed execution. */
public final class OpenClawModule implements ServiceModule {

    @Override
    public ServiceSpec spec() {
        return Stack.OPENCLAW;
    }

    @Override
    public SoniaServer newServer(StackConfig config) {
        return SoniaServer.builder(spec(), config)
                          .addService(new OpenClawServiceImpl())
                          .dependency(Stack.MEMORY)
                          .build();
    }
}
