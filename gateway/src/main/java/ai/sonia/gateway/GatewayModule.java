package ai.sonia.gateway;

import ai.sonia.gateway.grpc.GatewayServiceImpl;
import ai.sonia.runtime.ServiceModule;
import ai.sonia.runtime.ServiceSpec;
import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.Stack;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.status.DependencyProbe;

/** Wires the gateway: the public front door, depending on the five other services. */
public final class GatewayModule implements ServiceModule {

    @Override
    public ServiceSpec spec() {
        return Stack.GATEWAY;
    }

    @Override
    public SoniaServer newServer(StackConfig config) {
        final var downstream = Stack.SERVICES.stream().filter(s -> s != Stack.GATEWAY).toList();
        final DependencyProbe probe = new DependencyProbe(config, downstream);
        final SoniaServer.Builder builder =
                SoniaServer.builder(spec(), config)
                           .addService(new GatewayServiceImpl(probe, Limitations.load()))
                           .closeOnStop(probe);
        downstream.forEach(builder::dependency);
        return builder.build();
    }
}
