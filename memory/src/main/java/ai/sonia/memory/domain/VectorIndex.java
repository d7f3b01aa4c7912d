package ai.sonia.memory.domain;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import ai.sonia.memory.domain.TenantVectors.Scored;

/**
 * The in-memory vector index, partitioned by tenant so that no search can reach another tenant's vectors.
 * A tenant with fewer than {@code approximateAbove} vectors is searched by an exact scan; a larger one by
 * Lucene's HNSW graph once that is built. The ledger holds the vectors; this index is rebuilt from it at
 * start and kept in step after every committed write.
 */
public final class VectorIndex implements AutoCloseable {

    private static final Logger logger = LoggerFactory.getLogger(VectorIndex.class);

    private final int dims;
    private final int approximateAbove;
    private final Map<String, TenantVectors> tenants = new LinkedHashMap<>();
    private final ReadWriteLock lock = new ReentrantReadWriteLock();
    private final CompletableFuture<Void> loaded = new CompletableFuture<>();
    private final HnswIndex hnsw = new HnswIndex();
    // Set while the graph is fed: from then on every add and remove also goes to the graph.
    private volatile boolean feedingGraph;
    private volatile boolean graphReady;
    private final Set<Long> removedWhileBuilding = new HashSet<>();

    public VectorIndex(int dims, int approximateAbove) {
        this.dims = dims;
        this.approximateAbove = approximateAbove;
    }

    /** Adds a committed vector. */
    public void add(String tenant, long id, float[] vector) {
        lock.writeLock().lock();
        try {
            tenants.computeIfAbsent(tenant, t -> new TenantVectors(dims)).add(id, vector);
            if (feedingGraph) {
                hnsw.add(tenant, id, vector);
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** Drops a forgotten memory's vector. */
    public void remove(String tenant, long id) {
        lock.writeLock().lock();
        try {
            final TenantVectors vectors = tenants.get(tenant);
            if (vectors != null) {
                vectors.remove(id);
            }
            if (feedingGraph) {
                hnsw.remove(id);
                if (!graphReady) {
                    removedWhileBuilding.add(id);
                }
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** Drops everything (before a restore reloads it). */
    public void clear() {
        lock.writeLock().lock();
        try {
            tenants.clear();
            hnsw.clear();
            graphReady = false;
            feedingGraph = false;
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** Marks the start-up load of the exact index as finished. */
    public void markLoaded(Throwable failure) {
        if (failure == null) {
            loaded.complete(null);
        } else {
            loaded.completeExceptionally(failure);
        }
    }

    /**
     * Builds the HNSW graph from the exact index, tenant by tenant, without holding the lock while Lucene
     * builds; writes made meanwhile go to both.
     */
    public void buildGraph() {
        final long start = System.nanoTime();
        final Map<String, TenantVectors> snapshot = new LinkedHashMap<>();
        lock.writeLock().lock();
        try {
            feedingGraph = true;
            // Every tenant goes in, so a small tenant that grows past the threshold finds all its vectors there.
            tenants.forEach((tenant, vectors) -> snapshot.put(tenant, vectors.copy()));
        } finally {
            lock.writeLock().unlock();
        }
        int count = 0;
        for (Map.Entry<String, TenantVectors> entry : snapshot.entrySet()) {
            final TenantVectors vectors = entry.getValue();
            for (int i = 0; i < vectors.size(); i++) {
                hnsw.add(entry.getKey(), vectors.idAt(i), vectors.vectorAt(i));
                count++;
            }
        }
        lock.writeLock().lock();
        try {
            removedWhileBuilding.forEach(hnsw::remove);
            removedWhileBuilding.clear();
            graphReady = true;
        } finally {
            lock.writeLock().unlock();
        }
        logger.atInfo().addKeyValue("vectors", count)
              .addKeyValue("build_ms", (System.nanoTime() - start) / 1_000_000).log("HNSW graph built");
    }

    /** The {@code k} nearest of the tenant's vectors, best first; waits for the start-up load. */
    public List<Scored> nearest(String tenant, float[] query, int k) {
        loaded.join();
        lock.readLock().lock();
        try {
            final TenantVectors vectors = tenants.get(tenant);
            if (vectors == null) {
                return List.of();
            }
            if (!graphReady || vectors.size() < approximateAbove || k >= vectors.size()) {
                return vectors.nearest(query, k);
            }
        } finally {
            lock.readLock().unlock();
        }
        return distinct(hnsw.nearest(tenant, query, k));
    }

    /** A vector added while the graph was being fed can be there twice; the first (best) copy wins. */
    private static List<Scored> distinct(List<Scored> scored) {
        final Set<Long> seen = new HashSet<>();
        final List<Scored> distinct = new ArrayList<>(scored.size());
        for (Scored s : scored) {
            if (seen.add(s.id())) {
                distinct.add(s);
            }
        }
        return distinct;
    }

    /** Whether the HNSW graph is built and answers for large tenants. */
    public boolean graphReady() {
        return graphReady;
    }

    /** How many vectors the tenant has. */
    public int size(String tenant) {
        lock.readLock().lock();
        try {
            final TenantVectors vectors = tenants.get(tenant);
            return vectors == null ? 0 : vectors.size();
        } finally {
            lock.readLock().unlock();
        }
    }

    @Override
    public void close() throws IOException {
        hnsw.close();
    }
}
