package ai.sonia.memory.domain;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;


/**
 * The in-memory vector index, partitioned by tenant so that no search can reach another tenant's vectors.
 * A tenant with fewer than {@code approximateAbove} vectors is searched by an exact scan; a larger one by
 * Lucene's HNSW graph once that is built. BM25 has one path, Lucene's text index: filled first at start (in
 * seconds; searches wait for it), then the graph. The ledger holds text and vectors; this index is rebuilt
 * from it at start and kept in step after every committed write (other replicas' too, on a shared ledger:
 * {@link IndexLoader#followChanges}).
 */
public final class VectorIndex implements MemoryIndex {

    private static final long TEXT_WAIT_SECONDS = 60;

    private final int dims;
    private final int approximateAbove;
    private final Map<String, TenantVectors> tenants = new LinkedHashMap<>();
    private final ReadWriteLock lock = new ReentrantReadWriteLock();
    private final CompletableFuture<Void> loaded = new CompletableFuture<>();
    // Created by the background build, so that Lucene's start-up cost stays off the service's start.
    private volatile LuceneIndex lucene;
    // Set while the graph is fed: from then on every add and remove also goes to the graph.
    private volatile boolean feedingGraph;
    private volatile boolean graphReady;
    // Complete once Lucene's text index holds every stored memory (replaced by clear()).
    private volatile CompletableFuture<Void> textReady = new CompletableFuture<>();
    private final Set<Long> removedWhileBuilding = new HashSet<>();
    private volatile IndexLoader loader;

    public VectorIndex(int dims, int approximateAbove) {
        this.dims = dims;
        this.approximateAbove = approximateAbove;
    }

    /** Adds a committed memory's vector (and, once the Lucene index is fed, its text); once only. */
    @Override
    public void add(String tenant, long id, String text, float[] vector) {
        lock.writeLock().lock();
        try {
            final TenantVectors vectors = tenants.computeIfAbsent(tenant, t -> new TenantVectors(dims));
            if (vectors.contains(id)) {
                return; // a replica's change feed brings back what this replica added itself
            }
            vectors.add(id, vector);
            if (feedingGraph) {
                lucene.add(tenant, id, text, vector);
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** Adds a stored vector to the exact index only (the start-up load, before the Lucene index is fed). */
    public void addExact(String tenant, long id, float[] vector) {
        lock.writeLock().lock();
        try {
            tenants.computeIfAbsent(tenant, t -> new TenantVectors(dims)).add(id, vector);
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** Drops a forgotten memory's vector. */
    @Override
    public void remove(String tenant, long id) {
        lock.writeLock().lock();
        try {
            final TenantVectors vectors = tenants.get(tenant);
            if (vectors != null) {
                vectors.remove(id);
            }
            if (feedingGraph) {
                lucene.remove(id);
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
            if (lucene != null) {
                lucene.clear();
            }
            graphReady = false;
            feedingGraph = false;
            if (textReady.isDone()) {
                textReady = new CompletableFuture<>();
            }
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

    /** Why the index cannot answer yet (still loading, or its load failed), or null when it can. */
    @Override
    public String problem() {
        if (!loaded.isDone()) {
            return "the vector index is loading";
        }
        if (loaded.isCompletedExceptionally()) {
            return "the vector index failed to load";
        }
        if (!textReady.isDone()) {
            return "the BM25 index is loading";
        }
        return textReady.isCompletedExceptionally() ? "the BM25 index failed to load" : null;
    }

    /** From now on every add and remove also goes to the Lucene index, which the caller then fills. */
    public void startFeeding() {
        lock.writeLock().lock();
        try {
            if (lucene == null) {
                lucene = new LuceneIndex();
            }
            feedingGraph = true;
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** Adds one stored memory's text to Lucene's text index while it is being filled. */
    public void feedText(String tenant, long id, String text) {
        lucene.addText(tenant, id, text);
    }

    /** Marks the text index complete: it answers BM25 from now on. */
    public void finishText() {
        lock.writeLock().lock();
        try {
            removedWhileBuilding.forEach(lucene::remove);
        } finally {
            lock.writeLock().unlock();
        }
        textReady.complete(null);
    }

    /** Adds one stored memory's vector to the graph while it is being built. */
    public void feedVector(String tenant, long id, float[] vector) {
        lucene.addVector(tenant, id, vector);
    }

    /** Marks the graph complete: it answers vector queries of large tenants from now on. */
    public void finishFeeding() {
        lock.writeLock().lock();
        try {
            removedWhileBuilding.forEach(lucene::remove);
            removedWhileBuilding.clear();
            graphReady = true;
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** The text index could not be filled: BM25 answers UNAVAILABLE until a reload. */
    public void failText(Throwable failure) {
        textReady.completeExceptionally(failure);
    }

    /** The {@code k} nearest of the tenant's vectors, best first; waits for the start-up load. */
    @Override
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
        return distinct(lucene.nearest(tenant, query, k));
    }

    /** The {@code k} best BM25 matches among the tenant's memories; waits for the text index at start. */
    @Override
    public List<Scored> bm25(String tenant, List<String> words, int k) {
        try {
            textReady.get(TEXT_WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw Embedder.unavailable("interrupted while the BM25 index loads", e);
        } catch (ExecutionException e) {
            throw Embedder.unavailable("the BM25 index failed to load: " + e.getCause(), e);
        } catch (TimeoutException e) {
            throw Embedder.unavailable("the BM25 index is still loading", e);
        }
        return distinct(lucene.bm25(tenant, words, k));
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

    /** Whether the HNSW graph is built. */
    @Override
    public boolean graphReady() {
        return graphReady;
    }

    /** How many vectors the tenant has. */
    @Override
    public int size(String tenant) {
        lock.readLock().lock();
        try {
            final TenantVectors vectors = tenants.get(tenant);
            return vectors == null ? 0 : vectors.size();
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Loads the exact vectors from the ledger, then builds Lucene's indexes behind them ({@link IndexLoader}). */
    @Override
    public void load(MemoryStore store) {
        loader(store).load();
    }

    @Override
    public void reload(MemoryStore store) {
        loader(store).reload();
    }

    /** Applies what other replicas committed to a shared ledger since the last call ({@link IndexLoader}). */
    @Override
    public void followChanges() {
        final IndexLoader current = loader;
        if (current != null) {
            current.followChanges();
        }
    }

    @Override
    public String feedProblem() {
        final IndexLoader current = loader;
        return current == null ? null : current.feedProblem();
    }

    // One loader per index: it keeps the change feed's cursor from the load on.
    private synchronized IndexLoader loader(MemoryStore store) {
        if (loader == null) {
            loader = new IndexLoader(store, this);
        }
        return loader;
    }

    @Override
    public void close() {
        if (lucene != null) {
            try {
                lucene.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
