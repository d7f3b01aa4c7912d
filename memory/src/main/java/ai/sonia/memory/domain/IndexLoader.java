package ai.sonia.memory.domain;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import ai.sonia.runtime.Threads;


/**
 * Fills the in-memory {@link VectorIndex} from the ledger: the exact vectors first (searches wait for
 * them), then the Lucene index (BM25 and HNSW) on a background thread while FTS5 and exact scans answer.
 */
public final class IndexLoader {

    private static final Logger logger = LoggerFactory.getLogger(IndexLoader.class);

    private final MemoryStore store;
    private final VectorIndex index;

    public IndexLoader(MemoryStore store, VectorIndex index) {
        this.store = store;
        this.index = index;
    }

    /** Drops what the index holds and loads it again (after the ledger was replaced). */
    public void reload() {
        index.clear();
        load();
    }

    /** Loads the exact vectors, then starts building the Lucene index. */
    public void load() {
        final long start = System.nanoTime();
        try {
            final int[] count = new int[1];
            store.vectors((id, tenant, vector) -> {
                index.addExact(tenant, id, vector);
                count[0]++;
            });
            index.markLoaded(null);
            final Thread graph = Threads.factory("memory-lucene-build").newThread(this::buildLuceneIndex);
            graph.setPriority(Thread.MIN_PRIORITY);
            graph.start();
            logger.atInfo().addKeyValue("vectors", count[0])
                  .addKeyValue("load_ms", (System.nanoTime() - start) / 1_000_000)
                  .log("Vector index loaded");
        } catch (RuntimeException e) {
            logger.error("Loading the vector index failed", e);
            index.markLoaded(e);
        }
    }

    /** Fills the Lucene index (BM25 and HNSW) from the ledger, while FTS5 and exact scans answer. */
    void buildLuceneIndex() {
        final long start = System.nanoTime();
        try {
            index.startFeeding();
            final int[] count = new int[1];
            store.documents((id, tenant, text, vector) -> {
                index.feed(tenant, id, text, vector);
                count[0]++;
            });
            index.finishFeeding();
            logger.atInfo().addKeyValue("memories", count[0])
                  .addKeyValue("build_ms", (System.nanoTime() - start) / 1_000_000).log("Lucene index built");
        } catch (RuntimeException e) {
            logger.error("Building the Lucene index failed; BM25 stays on FTS5 and vectors on exact scans", e);
        }
    }
}
