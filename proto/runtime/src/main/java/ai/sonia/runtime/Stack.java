package ai.sonia.runtime;

import java.util.List;

import ai.sonia.evaos.v1.EvaOsServiceGrpc;
import ai.sonia.gateway.v1.ApiKeyServiceGrpc;
import ai.sonia.gateway.v1.AuditServiceGrpc;
import ai.sonia.gateway.v1.AuthServiceGrpc;
import ai.sonia.gateway.v1.GatewayServiceGrpc;
import ai.sonia.gateway.v1.UserServiceGrpc;
import ai.sonia.memory.v1.MemoryServiceGrpc;
import ai.sonia.openclaw.v1.OpenClawServiceGrpc;
import ai.sonia.pipecat.v1.PipecatServiceGrpc;
import ai.sonia.router.v1.RouterServiceGrpc;

/** The six services of the boot contract, in start order, read from their descriptors. */
public final class Stack {

    public static final ServiceSpec GATEWAY = ServiceSpec.of(GatewayServiceGrpc.getServiceDescriptor())
                                                         .withCompanions(AuthServiceGrpc.getServiceDescriptor(),
                                                                         UserServiceGrpc.getServiceDescriptor(),
                                                                         ApiKeyServiceGrpc.getServiceDescriptor(),
                                                                         AuditServiceGrpc.getServiceDescriptor());
    public static final ServiceSpec ROUTER = ServiceSpec.of(RouterServiceGrpc.getServiceDescriptor());
    public static final ServiceSpec MEMORY = ServiceSpec.of(MemoryServiceGrpc.getServiceDescriptor());
    public static final ServiceSpec PIPECAT = ServiceSpec.of(PipecatServiceGrpc.getServiceDescriptor());
    public static final ServiceSpec OPENCLAW = ServiceSpec.of(OpenClawServiceGrpc.getServiceDescriptor());
    public static final ServiceSpec EVAOS = ServiceSpec.of(EvaOsServiceGrpc.getServiceDescriptor());

    /** Every service, in port order. */
    public static final List<ServiceSpec> SERVICES = List.of(GATEWAY, ROUTER, MEMORY, PIPECAT, OPENCLAW, EVAOS);

    private Stack() {}
}
