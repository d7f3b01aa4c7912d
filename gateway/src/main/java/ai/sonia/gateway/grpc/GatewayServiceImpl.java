package ai.sonia.gateway.grpc;

import static ai.sonia.runtime.Unary.reply;

import java.util.List;

import ai.sonia.common.v1.DependencyStatus;
import ai.sonia.gateway.action.ActionRunner;
import ai.sonia.gateway.chat.ChatOrchestrator;
import ai.sonia.gateway.chat.ChatStreamer;
import ai.sonia.gateway.v1.ChatRequest;
import ai.sonia.gateway.v1.ChatResponse;
import ai.sonia.gateway.v1.ExecuteActionRequest;
import ai.sonia.gateway.v1.ExecuteActionResponse;
import ai.sonia.gateway.v1.GatewayServiceGrpc;
import ai.sonia.gateway.v1.GetDependenciesRequest;
import ai.sonia.gateway.v1.GetDependenciesResponse;
import ai.sonia.gateway.v1.GetLimitationsRequest;
import ai.sonia.gateway.v1.GetLimitationsResponse;
import ai.sonia.gateway.v1.StreamChatRequest;
import ai.sonia.gateway.v1.StreamChatResponse;
import ai.sonia.runtime.auth.Principal;
import ai.sonia.runtime.status.DependencyProbe;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;

/** The gateway's gRPC API (and, through transcoding, its REST API): adapters over the orchestration. */
public final class GatewayServiceImpl extends GatewayServiceGrpc.GatewayServiceImplBase {

    private final ChatOrchestrator chat;
    private final ChatStreamer streamer;
    private final ActionRunner actions;
    private final DependencyProbe dependencies;
    private final GetLimitationsResponse limitations;

    public GatewayServiceImpl(ChatOrchestrator chat, ChatStreamer streamer, ActionRunner actions,
                              DependencyProbe dependencies, GetLimitationsResponse limitations) {
        this.chat = chat;
        this.streamer = streamer;
        this.actions = actions;
        this.dependencies = dependencies;
        this.limitations = limitations;
    }

    @Override
    public void chat(ChatRequest request, StreamObserver<ChatResponse> responseObserver) {
        reply(responseObserver, chat.chat(request, Principal.current()));
    }

    @Override
    public void streamChat(StreamChatRequest request, StreamObserver<StreamChatResponse> responseObserver) {
        final ChatStreamer.Cancellation cancellation = streamer.prepare(request, Principal.current()).start(responseObserver);
        ((ServerCallStreamObserver<StreamChatResponse>) responseObserver)
                .setOnCancelHandler(() -> cancellation.cancel("client cancelled"));
    }

    @Override
    public void executeAction(ExecuteActionRequest request, StreamObserver<ExecuteActionResponse> responseObserver) {
        reply(responseObserver, ExecuteActionResponse.newBuilder()
                                                     .setOutcome(actions.execute(request)).build());
    }

    @Override
    public void getDependencies(GetDependenciesRequest request,
                                StreamObserver<GetDependenciesResponse> responseObserver) {
        final List<DependencyStatus> deps = dependencies.probeAll().join();
        reply(responseObserver, GetDependenciesResponse.newBuilder()
                                                       .addAllDependencies(deps)
                                                       .setAllOk(deps.stream().allMatch(DependencyStatus::getOk))
                                                       .build());
    }

    @Override
    public void getLimitations(GetLimitationsRequest request,
                               StreamObserver<GetLimitationsResponse> responseObserver) {
        reply(responseObserver, limitations);
    }
}
