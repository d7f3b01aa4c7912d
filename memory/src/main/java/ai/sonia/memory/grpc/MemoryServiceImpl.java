package ai.sonia.memory.grpc;

import static ai.sonia.runtime.Unary.reply;

import ai.sonia.memory.domain.Access;
import ai.sonia.memory.domain.Backups;
import ai.sonia.memory.domain.MemoryEngine;
import ai.sonia.memory.domain.SearchPipeline;
import ai.sonia.memory.v1.BackupMemoriesRequest;
import ai.sonia.memory.v1.BackupMemoriesResponse;
import ai.sonia.memory.v1.ForgetMemoryRequest;
import ai.sonia.memory.v1.ForgetMemoryResponse;
import ai.sonia.memory.v1.GetMemoryRequest;
import ai.sonia.memory.v1.GetMemoryStatsRequest;
import ai.sonia.memory.v1.InvalidateMemoryRequest;
import ai.sonia.memory.v1.ListAuditRecordsRequest;
import ai.sonia.memory.v1.ListAuditRecordsResponse;
import ai.sonia.memory.v1.ListMemoriesRequest;
import ai.sonia.memory.v1.ListMemoriesResponse;
import ai.sonia.memory.v1.Memory;
import ai.sonia.memory.v1.MemoryServiceGrpc;
import ai.sonia.memory.v1.MemoryStats;
import ai.sonia.memory.v1.RecallMemoryRequest;
import ai.sonia.memory.v1.RestoreMemoriesRequest;
import ai.sonia.memory.v1.RestoreMemoriesResponse;
import ai.sonia.memory.v1.RetrievePassagesRequest;
import ai.sonia.memory.v1.RetrievePassagesResponse;
import ai.sonia.memory.v1.SearchMemoriesRequest;
import ai.sonia.memory.v1.SearchMemoriesResponse;
import ai.sonia.memory.v1.StoreMemoryRequest;
import ai.sonia.memory.v1.StoreMemoryResponse;
import ai.sonia.runtime.Correlation;
import ai.sonia.runtime.auth.Principal;
import io.grpc.stub.StreamObserver;

/**
 * The memory gRPC API: hands each request, with what its principal may do, to the {@link MemoryEngine};
 * errors map in the exception handler.
 */
public final class MemoryServiceImpl extends MemoryServiceGrpc.MemoryServiceImplBase {

    private final MemoryEngine engine;
    private final SearchPipeline search;
    private final Backups backups;

    public MemoryServiceImpl(MemoryEngine engine, SearchPipeline search, Backups backups) {
        this.engine = engine;
        this.search = search;
        this.backups = backups;
    }

    @Override
    public void storeMemory(StoreMemoryRequest request, StreamObserver<StoreMemoryResponse> response) {
        reply(response, engine.store(request, access()));
    }

    @Override
    public void getMemory(GetMemoryRequest request, StreamObserver<Memory> response) {
        reply(response, engine.get(request.getName(), access()));
    }

    @Override
    public void searchMemories(SearchMemoriesRequest request, StreamObserver<SearchMemoriesResponse> response) {
        reply(response, search.search(request, access()));
    }

    @Override
    public void recallMemory(RecallMemoryRequest request, StreamObserver<Memory> response) {
        reply(response, engine.recall(request.getKey(), access()));
    }

    @Override
    public void retrievePassages(RetrievePassagesRequest request, StreamObserver<RetrievePassagesResponse> response) {
        reply(response, search.retrieve(request, access()));
    }

    @Override
    public void listMemories(ListMemoriesRequest request, StreamObserver<ListMemoriesResponse> response) {
        reply(response, engine.list(request, access()));
    }

    @Override
    public void invalidateMemory(InvalidateMemoryRequest request, StreamObserver<Memory> response) {
        reply(response, engine.invalidate(request, access()));
    }

    @Override
    public void forgetMemory(ForgetMemoryRequest request, StreamObserver<ForgetMemoryResponse> response) {
        reply(response, engine.forget(request, access()));
    }

    @Override
    public void getMemoryStats(GetMemoryStatsRequest request, StreamObserver<MemoryStats> response) {
        reply(response, engine.stats(request.getTenant(), access()));
    }

    @Override
    public void listAuditRecords(ListAuditRecordsRequest request,
                                 StreamObserver<ListAuditRecordsResponse> response) {
        reply(response, engine.audit(request, access()));
    }

    @Override
    public void backupMemories(BackupMemoriesRequest request, StreamObserver<BackupMemoriesResponse> response) {
        reply(response, backups.backup(request, access()));
    }

    @Override
    public void restoreMemories(RestoreMemoriesRequest request,
                                StreamObserver<RestoreMemoriesResponse> response) {
        reply(response, backups.restore(request, access()));
    }

    /** What the principal of the request being served may do; UNAUTHENTICATED without one. */
    private static Access access() {
        final String correlation = Correlation.current();
        return Access.of(Principal.current(), correlation == null ? "" : correlation);
    }
}
