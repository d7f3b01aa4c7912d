package ai.sonia.gateway.client;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import ai.sonia.evaos.v1.EvaOsServiceGrpc;
import ai.sonia.memory.v1.MemoryServiceGrpc;
import ai.sonia.openclaw.v1.OpenClawServiceGrpc;
import ai.sonia.router.v1.RouterServiceGrpc;
import ai.sonia.runtime.ServiceSpec;
import ai.sonia.runtime.Stack;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.client.Downstream;
import ai.sonia.runtime.client.DownstreamPolicy;

/** The services the gateway calls, each behind its own circuit breaker and bulkhead. */
public final class Downstreams implements AutoCloseable {

    private final Map<String, Downstream> byName = new LinkedHashMap<>();

    public Downstreams(StackConfig config, DownstreamPolicy policy) {
        for (ServiceSpec spec : List.of(Stack.ROUTER, Stack.MEMORY, Stack.OPENCLAW, Stack.EVAOS)) {
            byName.put(spec.name(), Downstream.of(config, Stack.GATEWAY, spec, policy));
        }
    }

    public RouterServiceGrpc.RouterServiceBlockingStub router() {
        return RouterServiceGrpc.newBlockingStub(byName.get("router").channel());
    }

    public RouterServiceGrpc.RouterServiceStub routerAsync() {
        return RouterServiceGrpc.newStub(byName.get("router").channel());
    }

    public MemoryServiceGrpc.MemoryServiceBlockingStub memory() {
        return MemoryServiceGrpc.newBlockingStub(byName.get("memory").channel());
    }

    public OpenClawServiceGrpc.OpenClawServiceBlockingStub openclaw() {
        return OpenClawServiceGrpc.newBlockingStub(byName.get("openclaw").channel());
    }

    public EvaOsServiceGrpc.EvaOsServiceBlockingStub evaos() {
        return EvaOsServiceGrpc.newBlockingStub(byName.get("evaos").channel());
    }

    /** The guarded channel to EVA-OS, for its streams. */
    public io.grpc.Channel evaosChannel() {
        return byName.get("evaos").channel();
    }

    /** The circuit state of a downstream ("CLOSED", "OPEN", "HALF_OPEN"), or "" for one not called. */
    public String circuitState(String service) {
        final Downstream downstream = byName.get(service);
        return downstream == null ? "" : downstream.circuitState();
    }

    /** Every downstream, for metrics. */
    public Iterable<Downstream> all() {
        return byName.values();
    }

    @Override
    public void close() {
        byName.values().forEach(Downstream::close);
    }
}
