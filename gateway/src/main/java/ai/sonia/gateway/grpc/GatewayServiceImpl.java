package ai.sonia.gateway.grpc;

import java.util.List;

import ai.sonia.common.v1.DependencyStatus;
import ai.sonia.gateway.v1.GatewayServiceGrpc;
import ai.sonia.gateway.v1.GetDependenciesRequest;
import ai.sonia.gateway.v1.GetDependenciesResponse;
import ai.sonia.gateway.v1.GetLimitationsRequest;
import ai.sonia.gateway.v1.GetLimitationsResponse;
import ai.sonia.runtime.status.DependencyProbe;
import io.grpc.stub.StreamObserver;

/**
 * The gateway's gRPC API (and, through transcoding, its REST API). Chat, streaming chat and actions
 * are built by the gateway issue and answer UNIMPLEMENTED until then.
 */
public final class GatewayServiceImpl extends GatewayServiceGrpc.GatewayServiceImplBase {

    private final DependencyProbe dependencies;
    private final GetLimitationsResponse limitations;

    public GatewayServiceImpl(DependencyProbe dependencies, GetLimitationsResponse limitations) {
        this.dependencies = dependencies;
        this.limitations = limitations;
    }

    @Override
    public void getDependencies(GetDependenciesRequest request,
                                StreamObserver<GetDependenciesResponse> responseObserver) {
        dependencies.probeAll().thenAccept((List<DependencyStatus> deps) -> {
            responseObserver.onNext(GetDependenciesResponse.newBuilder()
                                                           .addAllDependencies(deps)
                                                           .setAllOk(deps.stream().allMatch(DependencyStatus::getOk))
                                                           .build());
            responseObserver.onCompleted();
        });
    }

    @Override
    public void getLimitations(GetLimitationsRequest request,
                               StreamObserver<GetLimitationsResponse> responseObserver) {
        responseObserver.onNext(limitations);
        responseObserver.onCompleted();
    }
}
