package ai.sonia.openclaw;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import ai.sonia.memory.v1.Memory;
import ai.sonia.memory.v1.MemoryServiceGrpc;
import ai.sonia.memory.v1.SearchHit;
import ai.sonia.memory.v1.SearchMemoriesRequest;
import ai.sonia.memory.v1.SearchMemoriesResponse;
import ai.sonia.memory.v1.StoreMemoryRequest;
import ai.sonia.memory.v1.StoreMemoryResponse;
import io.grpc.stub.StreamObserver;

/** A small real memory service (its branch is not merged here): stores in a list, searches by substring. */
final class TestMemoryService extends MemoryServiceGrpc.MemoryServiceImplBase {

    final List<Memory> memories = new CopyOnWriteArrayList<>();

    @Override
    public void storeMemory(StoreMemoryRequest request, StreamObserver<StoreMemoryResponse> responseObserver) {
        final Memory stored = request.getMemory().toBuilder().setName("memories/" + (memories.size() + 1)).build();
        memories.add(stored);
        responseObserver.onNext(StoreMemoryResponse.newBuilder().setMemory(stored).setCreated(true).build());
        responseObserver.onCompleted();
    }

    @Override
    public void searchMemories(SearchMemoriesRequest request,
                               StreamObserver<SearchMemoriesResponse> responseObserver) {
        final SearchMemoriesResponse.Builder response = SearchMemoriesResponse.newBuilder();
        memories.stream()
                .filter(m -> m.getText().contains(request.getQuery()) && m.getScope().equals(request.getScope()))
                .limit(request.getTopK())
                .forEach(m -> response.addHits(SearchHit.newBuilder().setMemory(m).setScore(1)));
        responseObserver.onNext(response.build());
        responseObserver.onCompleted();
    }
}
