package ai.sonia.evaos;

import ai.sonia.evaos.grpc.EvaOsServiceImpl;
import ai.sonia.runtime.ServiceModule;
import ai.sonia.runtime.ServiceSpec;
import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.Stack;
import ai.sonia.runtime.StackConfig;

/** Wires the evaos service: risk decisions, approvals and stack health. */
public final class EvaOsModule implements ServiceModule {

    @Override
    public ServiceSpec spec() {
        return Stack.EVAOS;
    }

    @Override
    public SoniaServer newServer(StackConfig config) {
        return SoniaServer.builder(spec(), config)
                          .addService(new EvaOsServiceImpl())
                          .dependency(Stack.OPENCLAW)
                          .build();
    }
}
