package ai.sonia.memory.domain;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

import ai.sonia.memory.domain.TenantVectors.Scored;

/**
 * The in-memory vector index, partitioned by tenant so that no search can reach another tenant's vectors.
 * The ledger holds the vectors; this index is rebuilt from it at start (in the background) and kept in step
 * after every committed write.
 */
public final class VectorIndex {

    private final int dims;
    private final Map<String, TenantVectors> tenants = new ConcurrentHashMap<>();
    private final ReadWriteLock lock = new ReentrantReadWriteLock();
    private final CompletableFuture<Void> loaded = new CompletableFuture<>();

    public VectorIndex(int dims) {
        this.dims = dims;
    }

    /** Adds a committed vector. */
    public void add(String tenant, long id, float[] vector) {
        lock.writeLock().lock();
        try {
            tenants.computeIfAbsent(tenant, t -> new TenantVectors(dims)).add(id, vector);
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
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** Drops everything (before a restore reloads it). */
    public void clear() {
        lock.writeLock().lock();
        try {
            tenants.clear();
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** Marks the start-up load as finished. */
    public void markLoaded(Throwable failure) {
        if (failure == null) {
            loaded.complete(null);
        } else {
            loaded.completeExceptionally(failure);
        }
    }

    /** The {@code k} nearest of the tenant's vectors, best first; waits for the start-up load. */
    public List<Scored> nearest(String tenant, float[] query, int k) {
        loaded.join();
        lock.readLock().lock();
        try {
            final TenantVectors vectors = tenants.get(tenant);
            return vectors == null ? List.of() : vectors.nearest(query, k);
        } finally {
            lock.readLock().unlock();
        }
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
}
