package ai.sonia.memory;

import static ai.sonia.memory.MemoryTestServer.scope;
import static ai.sonia.memory.MemoryTestServer.tenant;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;

import ai.sonia.memory.v1.GetMemoryStatsRequest;
import ai.sonia.memory.v1.ListMemoriesRequest;
import ai.sonia.memory.v1.SearchMemoriesRequest;

class ConcurrentAccessTest {

    @Test
    void readersServeWhileWritersStoreAndSeeOnlyWholeWrites() {
        try (MemoryTestServer server = MemoryTestServer.fresh("concurrent")) {
            final AtomicBoolean writing = new AtomicBoolean(true);
            final Queue<Throwable> errors = new ConcurrentLinkedQueue<>();
            final AtomicInteger reads = new AtomicInteger();
            final List<CompletableFuture<Void>> readers = IntStream.range(0, 3).mapToObj(r -> CompletableFuture.runAsync(() -> {
                int lastCount = 0;
                while (writing.get()) {
                    try {
                        final int count = server.stub.listMemories(ListMemoriesRequest.newBuilder()
                                .setScope(tenant("conc")).setPageSize(500).build()).getMemoriesCount();
                        assertThat(count).isGreaterThanOrEqualTo(lastCount);
                        lastCount = count;
                        server.stub.searchMemories(SearchMemoriesRequest.newBuilder().setScope(tenant("conc"))
                                                                        .setQuery("concurrent fact").build())
                                   .getHitsList().forEach(h -> assertThat(h.getMemory().getText()).isNotEmpty());
                        reads.incrementAndGet();
                    } catch (Throwable t) {
                        errors.add(t);
                        return;
                    }
                }
            })).toList();
            final List<CompletableFuture<Void>> writers = IntStream.range(0, 2).mapToObj(w -> CompletableFuture.runAsync(() -> {
                for (int i = 0; i < 60; i++) {
                    server.store(scope("conc", "u" + w, ""), "Concurrent fact " + i + " from writer " + w);
                }
            })).toList();
            CompletableFuture.allOf(writers.toArray(CompletableFuture[]::new)).join();
            writing.set(false);
            CompletableFuture.allOf(readers.toArray(CompletableFuture[]::new)).join();

            assertThat(errors).isEmpty();
            assertThat(reads.get()).isPositive();
            assertThat(server.stub.getMemoryStats(GetMemoryStatsRequest.newBuilder().setTenant("conc").build())
                                  .getActive()).isEqualTo(120);
        }
    }
}
