package ai.sonia.runtime;

import static java.util.Objects.requireNonNull;

import java.util.LinkedHashMap;
import java.util.Map;

import com.google.protobuf.Descriptors.MethodDescriptor;
import com.google.protobuf.Descriptors.ServiceDescriptor;

import ai.sonia.options.v1.MethodContract;
import ai.sonia.options.v1.OptionsProto;
import ai.sonia.options.v1.ServiceContract;
import io.grpc.protobuf.ProtoServiceDescriptorSupplier;

/**
 * A service's boot contract, read from the {@code (sonia.options.v1.service)} and
 * {@code (sonia.options.v1.method)} options of its proto descriptor. Nothing else in the
 * code base names a port or a deadline.
 */
public record ServiceSpec(String name, int port, String summary, ServiceDescriptor descriptor,
                          Map<String, MethodContract> methods, java.util.List<ServiceDescriptor> companions) {

    /** The deadline applied when neither the caller nor the contract sets one. */
    public static final int DEFAULT_DEADLINE_MS = 10_000;

    public ServiceSpec {
        requireNonNull(name, "name");
        requireNonNull(descriptor, "descriptor");
        methods = Map.copyOf(methods);
        companions = java.util.List.copyOf(companions);
    }

    /** Reads the contract of a generated gRPC service, e.g. {@code MemoryServiceGrpc.getServiceDescriptor()}. */
    public static ServiceSpec of(io.grpc.ServiceDescriptor grpcService) {
        final Object schema = grpcService.getSchemaDescriptor();
        if (!(schema instanceof ProtoServiceDescriptorSupplier supplier)) {
            throw new IllegalArgumentException(grpcService.getName() + " has no proto descriptor");
        }
        return of(supplier.getServiceDescriptor());
    }

    /** Reads the contract of a proto service descriptor. */
    public static ServiceSpec of(ServiceDescriptor service) {
        if (!service.getOptions().hasExtension(OptionsProto.service)) {
            throw new IllegalArgumentException(
                    service.getFullName() + " declares no (sonia.options.v1.service) option");
        }
        final ServiceContract contract = service.getOptions().getExtension(OptionsProto.service);
        if (contract.getName().isEmpty() || contract.getPort() <= 0 || contract.getPort() > 65535) {
            throw new IllegalArgumentException(service.getFullName() + " has an invalid contract: " + contract);
        }
        final Map<String, MethodContract> methods = new LinkedHashMap<>();
        for (MethodDescriptor method : service.getMethods()) {
            methods.put(method.getName(), method.getOptions().getExtension(OptionsProto.method));
        }
        return new ServiceSpec(contract.getName(), contract.getPort(), contract.getSummary(), service, methods,
                               java.util.List.of());
    }

    /**
     * The same service with more gRPC services on its port (the gateway's accounts beside its API), whose
     * methods share the contract's deadlines and retry rules. Method names stay unique across them.
     */
    public ServiceSpec withCompanions(io.grpc.ServiceDescriptor... grpcServices) {
        final Map<String, MethodContract> all = new LinkedHashMap<>(methods);
        final java.util.List<ServiceDescriptor> added = new java.util.ArrayList<>(companions);
        for (io.grpc.ServiceDescriptor grpcService : grpcServices) {
            final ServiceDescriptor service = ((ProtoServiceDescriptorSupplier) grpcService.getSchemaDescriptor())
                    .getServiceDescriptor();
            for (MethodDescriptor method : service.getMethods()) {
                if (all.put(method.getName(), method.getOptions().getExtension(OptionsProto.method)) != null) {
                    throw new IllegalArgumentException(name + ": method " + method.getName() + " is declared twice");
                }
            }
            added.add(service);
        }
        return new ServiceSpec(name, port, summary, descriptor, all, added);
    }

    /** Every gRPC API of the service: its own first, then its companions. */
    public java.util.List<ServiceDescriptor> apis() {
        final java.util.List<ServiceDescriptor> apis = new java.util.ArrayList<>();
        apis.add(descriptor);
        apis.addAll(companions);
        return apis;
    }

    /** The gRPC service's full name: {@code sonia.memory.v1.MemoryService}. */
    public String grpcServiceName() {
        return descriptor.getFullName();
    }

    /** The deadline of a method in milliseconds; 0 for streams that live as long as the caller wants. */
    public long deadlineMillis(String methodName) {
        final MethodContract contract = methods.get(methodName);
        if (contract == null || !contract.hasDeadlineMs()) {
            return DEFAULT_DEADLINE_MS;
        }
        return contract.getDeadlineMs();
    }

    /** Whether a method may be retried on UNAVAILABLE. */
    public boolean idempotent(String methodName) {
        final MethodContract contract = methods.get(methodName);
        return contract != null && contract.getIdempotent();
    }
}
