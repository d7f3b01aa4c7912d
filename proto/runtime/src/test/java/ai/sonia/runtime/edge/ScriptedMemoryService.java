package ai.sonia.runtime.edge;

import java.util.Map;

import ai.sonia.common.v1.ErrorCode;
import ai.sonia.memory.v1.GetMemoryRequest;
import ai.sonia.memory.v1.Memory;
import ai.sonia.memory.v1.MemoryServiceGrpc;
import ai.sonia.memory.v1.SearchMemoriesRequest;
import ai.sonia.memory.v1.SearchMemoriesResponse;
import ai.sonia.runtime.Correlation;
import ai.sonia.runtime.Errors;
import io.grpc.stub.StreamObserver;

/**
 * A memory service whose answers are scripted by the request, to drive the edge through every outcome:
 * {@code memories/ok} succeeds; {@code memories/<CODE>} fails with that envelope code; a search echoes
 * the correlation id it saw.
 */
final class ScriptedMemoryService extends MemoryServiceGrpc.MemoryServiceImplBase {

    static final String DOMAIN = "test.sonia.ai";

    @Override
    public void getMemory(GetMemoryRequest request, StreamObserver<Memory> responseObserver) {
        final String id = request.getName().substring("memories/".length());
        if ("ok".equals(id)) {
            responseObserver.onNext(Memory.newBuilder().setName(request.getName()).setText("remembered").build());
            responseObserver.onCompleted();
            return;
        }
        if ("quote".equals(id)) {
            responseObserver.onNext(Memory.newBuilder().setName(request.getName()).setText("Ann's locker & <b>=1</b>").build());
            responseObserver.onCompleted();
            return;
        }
        if ("crash".equals(id)) {
            throw new IllegalStateException("secret internal detail");
        }
        if ("INVALID_ARGUMENT".equals(id)) {
            responseObserver.onError(Errors.invalidArgument(DOMAIN, "name", "must be scripted"));
            return;
        }
        final ErrorCode code = ErrorMapping.fromWireName(id);
        responseObserver.onError(Errors.of(DOMAIN, code, "scripted " + id, Map.of("name", request.getName())));
    }

    @Override
    public void searchMemories(SearchMemoriesRequest request, StreamObserver<SearchMemoriesResponse> responseObserver) {
        responseObserver.onNext(SearchMemoriesResponse.newBuilder()
                                                      .addHits(ai.sonia.memory.v1.SearchHit.newBuilder().setMemory(
                                                              Memory.newBuilder().setText(String.valueOf(Correlation.current()))))
                                                      .build());
        responseObserver.onCompleted();
    }
}
