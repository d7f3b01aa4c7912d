package ai.sonia.memory.domain;

import java.util.Set;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import ai.sonia.runtime.Threads;


/**
 * Fills the in-memory {@link VectorIndex} from the ledger: the exact vectors first (searches wait for
 * them), then on a background thread Lucene's text index (BM25 searches wait for it) and then its HNSW graph
 * (exact scans answer until it is built). Then keeps it in step with what other replicas of a shared ledger
 * write ({@link #followChanges}, a few times a second; a ledger only this process writes has no such changes).
 */
public final class IndexLoader {

    private static final Logger logger = LoggerFactory.getLogger(IndexLoader.class);

    private final MemoryStore store;
    private final VectorIndex index;
    // Where the change feed is read next, and the changes read last time (they may be read again).
    private long cursor;
    private Set<Long> known = Set.of();
    // Why the last read of the change feed failed (the shared ledger cannot be read), or null.
    private volatile String feedProblem;

    public IndexLoader(MemoryStore store, VectorIndex index) {
        this.store = store;
        this.index = index;
    }

    /** Drops what the index holds and loads it again (after the ledger was replaced). */
    public synchronized void reload() {
        index.clear();
        load();
    }

    /**
     * Applies the changes that any replica committed since the last call (or the load): memories stored
     * through another replica become searchable here, forgotten ones leave, a restore reloads everything.
     */
    public synchronized void followChanges() {
        final MemoryStore.Changes read;
        try {
            read = store.changesSince(cursor, known);
        } catch (RuntimeException e) {
            if (feedProblem == null) {
                logger.warn("Reading the ledger's changes failed; the index follows again when it can", e);
            }
            feedProblem = "the shared memory ledger cannot be read: " + e.getMessage();
            return;
        }
        if (feedProblem != null) {
            logger.info("Reading the ledger's changes works again");
            feedProblem = null;
        }
        known = read.seen();
        boolean restored = false;
        for (MemoryStore.Change change : read.changes()) {
            switch (change.kind()) {
                case ADD -> index.add(change.tenant(), change.id(), change.text(), change.vector());
                case REMOVE -> index.remove(change.tenant(), change.id());
                case RELOAD -> restored = true;
            }
        }
        if (restored) {
            // Whatever committed before the restore is replaced by it, and in the load.
            logger.info("The ledger was restored; reloading the index");
            reload(); // takes a new cursor
            return;
        }
        cursor = read.cursor();
    }

    /**
     * Why this replica's index cannot follow the shared ledger now (for {@code /readyz}: the ledger's engine
     * is unreachable), or null; checked by every read of the feed, a few times a second.
     */
    public String feedProblem() {
        return feedProblem;
    }

    /** Loads the exact vectors, then starts building the Lucene index. */
    public synchronized void load() {
        final long start = System.nanoTime();
        try {
            // Before the read: whatever commits after it is in the feed from here on.
            cursor = store.changeCursor();
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

    /** Fills Lucene's text index, then its graph, from the ledger. */
    void buildLuceneIndex() {
        final long start = System.nanoTime();
        final int[] count = new int[1];
        try {
            index.startFeeding();
            store.documents((id, tenant, text, vector) -> {
                index.feedText(tenant, id, text);
                count[0]++;
            });
            index.finishText();
            logger.atInfo().addKeyValue("memories", count[0])
                  .addKeyValue("build_ms", (System.nanoTime() - start) / 1_000_000).log("BM25 index built");
        } catch (RuntimeException e) {
            logger.error("Building the BM25 index failed; searches are UNAVAILABLE", e);
            index.failText(e);
            return;
        }
        try {
            store.vectors((id, tenant, vector) -> index.feedVector(tenant, id, vector));
            index.finishFeeding();
            logger.atInfo().addKeyValue("memories", count[0])
                  .addKeyValue("build_ms", (System.nanoTime() - start) / 1_000_000).log("HNSW graph built");
        } catch (RuntimeException e) {
            logger.error("Building the HNSW graph failed; vectors stay on exact scans", e);
        }
    }
}
