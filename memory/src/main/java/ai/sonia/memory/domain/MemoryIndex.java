package ai.sonia.memory.domain;

import java.util.List;

/**
 * The search index under {@link SearchPipeline}: BM25 over the text and nearest neighbours over the vectors,
 * each answered inside one tenant only (the tenant filters every query in the engine). It ranks candidates;
 * which of them may be returned (scope, kind, validity, TTL) and the fused, decayed order stay with the
 * pipeline, which checks every candidate against the ledger. Two implementations: {@link VectorIndex}, in this
 * process (the default), and {@code ai.sonia.memory.store.SolrMemoryIndex}, a SolrCloud collection that
 * replicas share ({@code services.memory.search.engine}). Every method may throw UNAVAILABLE when its engine
 * cannot answer; none falls back to another engine.
 */
public interface MemoryIndex extends AutoCloseable {

    /** A memory's row id with its score in one ranking. */
    record Scored(long id, float score) {}

    /** Adds a committed memory (its text and unit vector); adding an id again changes nothing. */
    void add(String tenant, long id, String text, float[] vector);

    /** Drops a forgotten memory. */
    void remove(String tenant, long id);

    /** The {@code k} best BM25 matches of any of {@code words} among the tenant's memories, best first. */
    List<Scored> bm25(String tenant, List<String> words, int k);

    /** The (approximately) {@code k} nearest of the tenant's vectors to a unit vector, best first. */
    List<Scored> nearest(String tenant, float[] query, int k);

    /** How many memories of the tenant the index holds. */
    int size(String tenant);

    /** Why the index cannot answer now (loading, its engine unreachable), or null when it can. */
    String problem();

    /** Whether approximate (HNSW) vector search is ready. */
    boolean graphReady();

    /** Fills the index from the ledger at start (in the background: searches see {@link #problem()}). */
    void load(MemoryStore store);

    /** Drops what the index holds and fills it again from {@code store} (after the ledger was replaced). */
    void reload(MemoryStore store);

    /**
     * Catches up with what other replicas committed to a shared ledger since the last call (a few times a
     * second, on the housekeeping thread); an index the replicas share has nothing to follow.
     */
    default void followChanges() {}

    /** Why this index cannot follow the shared ledger now (its engine unreachable), or null. */
    default String feedProblem() {
        return null;
    }

    @Override
    void close();
}
