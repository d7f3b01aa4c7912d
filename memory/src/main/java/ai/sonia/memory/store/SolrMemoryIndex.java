package ai.sonia.memory.store;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import org.apache.solr.client.solrj.SolrClient;
import org.apache.solr.client.solrj.SolrQuery;
import org.apache.solr.client.solrj.SolrRequest.METHOD;
import org.apache.solr.client.solrj.SolrServerException;
import org.apache.solr.client.solrj.impl.CloudSolrClient;
import org.apache.solr.client.solrj.impl.Http2SolrClient;
import org.apache.solr.client.solrj.request.UpdateRequest;
import org.apache.solr.client.solrj.request.schema.SchemaRequest;
import org.apache.solr.client.solrj.response.QueryResponse;
import org.apache.solr.client.solrj.util.ClientUtils;
import org.apache.solr.common.SolrDocument;
import org.apache.solr.common.SolrInputDocument;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import ai.sonia.common.v1.ErrorCode;
import ai.sonia.memory.MemoryConfig;
import ai.sonia.memory.domain.MemoryIndex;
import ai.sonia.memory.domain.MemoryStore;
import ai.sonia.runtime.Threads;
import ai.sonia.runtime.errors.DomainException;

/**
 * Memory search on a SolrCloud collection ({@code services.memory.search.engine: solr}), shared by every replica
 * of the memory service: BM25 on the {@code text} field and {@code {!knn}} on the {@code vector} field (Lucene's
 * HNSW), each query filtered by its tenant in the engine ({@code fq}), so that another tenant's memories never
 * leave Solr. It only ranks: the search pipeline checks each candidate against the ledger, fuses and decays.
 * The collection comes from the configset {@code solr/sonia-memory} in this jar. Every failure to reach Solr
 * is UNAVAILABLE (ErrorInfo {@code engine: solr}); nothing falls back to the in-process index.
 */
public final class SolrMemoryIndex implements MemoryIndex {

    private static final Logger logger = LoggerFactory.getLogger(SolrMemoryIndex.class);

    private static final String ID = "id";
    private static final String TENANT = "tenant";
    private static final String TEXT = "text";
    private static final String VECTOR = "vector";
    private static final String INDEXED_MS = "indexed_ms";
    // As the in-process index: the graph is searched at least this wide, then cut to k.
    private static final int MIN_BEAM = 100;
    // Small enough that one batch is indexed (HNSW included) well within the timeout on a busy node.
    private static final int LOAD_BATCH = 100;
    private static final int LOAD_ATTEMPTS = 3;

    private final SolrClient client;
    private final String collection;
    private final int commitWithinMs;
    private final int dims;
    private static final long RETRY_LOAD_MS = 5_000;

    // Why the index may not hold what the ledger does (its check at start not done, or failed), or null.
    private volatile String loadProblem;
    // Set once a start-up check failed (Solr down at start): readiness checks try it again, every 5 s at most.
    private volatile MemoryStore retryLoad;
    private volatile long lastLoadMs;
    // The ledger whose outbox holds the writes this index owes (null: writes go to Solr directly, as in tests of
    // the index alone; set once, before use), and why the last drain of it failed (the index is behind the ledger), or null.
    private volatile MemoryStore outbox;
    private volatile String behind;

    SolrMemoryIndex(SolrClient client, String collection, int commitWithinMs, int dims) {
        this.client = client;
        this.collection = collection;
        this.commitWithinMs = commitWithinMs;
        this.dims = dims;
    }

    /**
     * The index of {@code ledger}'s memories: when the ledger keeps the index outbox, every write reaches Solr
     * through it (and heals there); otherwise writes go to Solr directly.
     */
    public static SolrMemoryIndex connect(MemoryConfig.Solr solr, int dims, MemoryStore ledger) {
        final SolrMemoryIndex index = connect(solr, dims);
        if (ledger.keepsIndexOutbox()) {
            index.outbox = ledger;
        }
        return index;
    }

    /** A client of the SolrCloud that {@code solr} names; it connects on first use. */
    public static SolrMemoryIndex connect(MemoryConfig.Solr solr, int dims) {
        final String zkHost = solr.zkHost();
        final int slash = zkHost.indexOf('/');
        final List<String> hosts = Arrays.asList((slash < 0 ? zkHost : zkHost.substring(0, slash)).split(","));
        final Optional<String> chroot = slash < 0 ? Optional.empty() : Optional.of(zkHost.substring(slash));
        final CloudSolrClient client =
                new CloudSolrClient.Builder(hosts, chroot)
                        .withDefaultCollection(solr.collection())
                        .withZkConnectTimeout(solr.timeoutMs(), TimeUnit.MILLISECONDS)
                        .withZkClientTimeout(Math.max(solr.timeoutMs(), 10_000), TimeUnit.MILLISECONDS)
                        .withInternalClientBuilder(new Http2SolrClient.Builder()
                                                           .withConnectionTimeout(solr.timeoutMs(), TimeUnit.MILLISECONDS)
                                                           .withIdleTimeout(solr.timeoutMs(), TimeUnit.MILLISECONDS)
                                                           .withRequestTimeout(solr.timeoutMs(), TimeUnit.MILLISECONDS))
                        .build();
        return new SolrMemoryIndex(client, solr.collection(), solr.commitWithinMs(), dims);
    }

    /**
     * With the ledger's outbox, the write (committed there with the memory) goes to Solr with whatever else is
     * owed, in order; while Solr fails, the follower sends it once Solr is back, and searches are UNAVAILABLE.
     */
    @Override
    public void add(String tenant, long id, String text, float[] vector) {
        if (outbox == null) {
            update(new UpdateRequest().add(document(tenant, id, text, vector)));
        } else if (behind == null) {
            drain();
        }
    }

    private static SolrInputDocument document(String tenant, long id, String text, float[] vector) {
        final SolrInputDocument document = new SolrInputDocument();
        document.addField(ID, Long.toString(id));
        document.addField(TENANT, tenant);
        document.addField(TEXT, text);
        final List<Float> values = new ArrayList<>(vector.length);
        for (float value : vector) {
            values.add(value);
        }
        document.addField(VECTOR, values);
        document.addField(INDEXED_MS, System.currentTimeMillis());
        return document;
    }

    @Override
    public void remove(String tenant, long id) {
        if (outbox == null) {
            update(new UpdateRequest().deleteById(Long.toString(id)));
        } else if (behind == null) {
            drain();
        }
    }

    /** Sends the outbox's writes to Solr on the housekeeping thread: what a failure left waiting heals here. */
    @Override
    public void followChanges() {
        retryLoadIfDue();
        if (outbox != null) {
            drain();
        }
    }

    /**
     * Applies the ledger's outbox to Solr until it is empty, in batches; a batch Solr did not acknowledge stays
     * in the outbox (the index is then behind, searches UNAVAILABLE) and is sent again by the next drain. When
     * another replica is draining, its drain (or the next one here, within 250 ms) takes what is left.
     */
    private synchronized void drain() {
        final MemoryStore store = outbox;
        try {
            int applied;
            do {
                applied = store.drainIndexOutbox(LOAD_BATCH, this::apply);
            } while (applied == LOAD_BATCH);
            if (applied < 0) {
                return;
            }
            if (behind != null) {
                logger.info("The Solr index caught up with the ledger; searches answer again");
                behind = null;
            }
        } catch (RuntimeException e) {
            if (behind == null) {
                logger.warn("Writing to the Solr index failed; the writes wait in the ledger's outbox and searches"
                            + " are UNAVAILABLE until SolrCloud takes them", e);
            }
            behind = "the Solr index is behind the ledger: its writes wait for SolrCloud (" + e.getMessage() + ')';
        }
    }

    /** Sends writes of the outbox as one update: the last of each memory's (an ADD, or a REMOVE) counts. */
    private void apply(List<MemoryStore.Change> writes) {
        final Map<Long, MemoryStore.Change> last = new LinkedHashMap<>();
        for (MemoryStore.Change write : writes) {
            last.remove(write.id());
            last.put(write.id(), write);
        }
        final UpdateRequest request = new UpdateRequest();
        for (MemoryStore.Change write : last.values()) {
            if (write.kind() == MemoryStore.Change.Kind.ADD) {
                request.add(document(write.tenant(), write.id(), write.text(), write.vector()));
            } else {
                request.deleteById(Long.toString(write.id()));
            }
        }
        update(request);
    }

    /** Sends a change: searchable within commitWithinMs, or at once (a soft commit, waited for) when it is 0. */
    private void update(UpdateRequest request) {
        if (commitWithinMs > 0) {
            request.setCommitWithin(commitWithinMs);
        } else {
            request.setAction(UpdateRequest.ACTION.COMMIT, true, true, true);
        }
        call("write to", () -> request.process(client, collection));
    }

    @Override
    public List<Scored> bm25(String tenant, List<String> words, int k) {
        if (words.isEmpty()) {
            return List.of();
        }
        // The words are letters and digits only (SearchPipeline.queryWords); escaped all the same. The field's
        // analyzer stems them as it stemmed the text; any word matches (q.op OR), scored by BM25.
        final StringBuilder q = new StringBuilder("{!lucene df=" + TEXT + " q.op=OR}");
        for (String word : words) {
            q.append(ClientUtils.escapeQueryChars(word)).append(' ');
        }
        return search(new SolrQuery(q.toString().strip()), tenant, k, score -> score);
    }

    @Override
    public List<Scored> nearest(String tenant, float[] query, int k) {
        final StringBuilder q = new StringBuilder("{!knn f=" + VECTOR + " topK=" + Math.max(k, MIN_BEAM) + "}[");
        for (int i = 0; i < query.length; i++) {
            q.append(i == 0 ? "" : ",").append(query[i]);
        }
        // Solr scores cosine c as (1 + c) / 2; the tenant's fq is a pre-filter of the graph search.
        return search(new SolrQuery(q.append(']').toString()), tenant, k, score -> 2 * score - 1);
    }

    private List<Scored> search(SolrQuery query, String tenant, int k, FloatOp score) {
        checkComplete();
        query.addFilterQuery("{!term f=" + TENANT + '}' + tenant).setFields(ID, "score").setRows(k);
        // POST: a query vector of 384 numbers is too long for a URL.
        final QueryResponse response = call("search", () -> client.query(collection, query, METHOD.POST));
        final List<Scored> scored = new ArrayList<>(response.getResults().size());
        for (SolrDocument document : response.getResults()) {
            scored.add(new Scored(Long.parseLong((String) document.getFirstValue(ID)),
                                  score.apply(((Number) document.getFirstValue("score")).floatValue())));
        }
        return scored;
    }

    @Override
    public int size(String tenant) {
        checkComplete();
        final SolrQuery query = new SolrQuery("*:*").addFilterQuery("{!term f=" + TENANT + '}' + tenant).setRows(0);
        return (int) call("count", () -> client.query(collection, query)).getResults().getNumFound();
    }

    private long count() {
        return call("count", () -> client.query(collection, new SolrQuery("*:*").setRows(0))).getResults()
                .getNumFound();
    }

    /**
     * Fails closed: while the index may miss what the ledger holds (its check against the ledger not done, or
     * writes waiting in the outbox), a search is UNAVAILABLE rather than an answer that silently lacks them.
     */
    private void checkComplete() {
        final String problem = loadProblem != null ? loadProblem : behind;
        if (problem != null) {
            throw DomainException.of(ErrorCode.ERROR_CODE_UNAVAILABLE, problem,
                                     Map.of("engine", "solr", "collection", collection));
        }
    }

    @Override
    public String problem() {
        retryLoadIfDue();
        if (loadProblem != null) {
            return loadProblem;
        }
        if (behind != null) {
            return behind;
        }
        try {
            call("ping", () -> client.query(collection, new SolrQuery("*:*").setRows(0)));
            return null;
        } catch (DomainException e) {
            return e.getMessage();
        }
    }

    /** Checks against the ledger again, at most every 5 s, after a start-up check failed (Solr down at start). */
    private void retryLoadIfDue() {
        final MemoryStore retry = retryLoad;
        if (retry != null && System.currentTimeMillis() - lastLoadMs > RETRY_LOAD_MS) {
            retryLoad = null;
            load(retry);
        }
    }

    @Override
    public boolean graphReady() {
        return true;
    }

    /**
     * Checks the collection (its vector field has the model's dimensions) and, in the background, that it holds
     * as many memories as the ledger: if fewer (a new collection, writes lost while Solr was down), every memory
     * of the ledger is written again (an upsert by id: replicas doing it at once do no harm).
     */
    @Override
    public void load(MemoryStore store) {
        lastLoadMs = System.currentTimeMillis();
        loadProblem = "the SolrCloud index is being checked against the ledger";
        final Thread thread = Threads.factory("memory-solr-load").newThread(() -> catchUp(store, false));
        thread.start();
    }

    @Override
    public void reload(MemoryStore store) {
        catchUp(store, true);
    }

    private void catchUp(MemoryStore store, boolean replace) {
        final long start = System.nanoTime();
        try {
            checkSchema();
            if (replace) {
                final UpdateRequest clear = new UpdateRequest().deleteByQuery("*:*");
                clear.setAction(UpdateRequest.ACTION.COMMIT, true, true, true);
                call("clear", () -> clear.process(client, collection));
            }
            final long ledger = store.count();
            final long indexed = count();
            if (indexed < ledger) {
                loadProblem = "the Solr index is catching up with the ledger (" + indexed + " of " + ledger + ')';
                final List<SolrInputDocument> batch = new ArrayList<>(LOAD_BATCH);
                store.documents((id, tenant, text, vector) -> {
                    batch.add(document(tenant, id, text, vector));
                    if (batch.size() == LOAD_BATCH) {
                        flush(batch);
                    }
                });
                flush(batch);
                call("commit", () -> client.commit(collection, true, true, true));
            }
            loadProblem = null;
            logger.atInfo().addKeyValue("collection", collection).addKeyValue("ledger", ledger)
                  .addKeyValue("indexed_before", indexed)
                  .addKeyValue("load_ms", (System.nanoTime() - start) / 1_000_000).log("Solr index checked");
        } catch (RuntimeException e) {
            loadProblem = "the Solr index could not be checked: " + e.getMessage();
            logger.error("Checking the Solr index against the ledger failed; searches are UNAVAILABLE until it succeeds", e);
            if (replace) {
                throw e;
            }
            retryLoad = store;
        }
    }

    /** Writes a batch of the catch-up, again after a failure (an upsert by id: a repeat does no harm). */
    private void flush(List<SolrInputDocument> batch) {
        if (batch.isEmpty()) {
            return;
        }
        final UpdateRequest request = new UpdateRequest().add(batch);
        for (int attempt = 1; ; attempt++) {
            try {
                call("write to", () -> request.process(client, collection));
                break;
            } catch (DomainException e) {
                if (attempt == LOAD_ATTEMPTS) {
                    throw e;
                }
                logger.warn("A batch of the Solr catch-up failed (attempt {} of {}); trying again", attempt,
                            LOAD_ATTEMPTS, e);
            }
        }
        batch.clear();
    }

    /** Refuses a collection whose vector field does not have the embedding model's dimensions. */
    private void checkSchema() {
        final Map<String, Object> attributes = call("read the schema of",
                                                    () -> new SchemaRequest.FieldType("vector_384")
                                                            .process(client, collection))
                .getFieldType().getAttributes();
        final Object dimension = attributes.get("vectorDimension");
        if (dimension == null || Integer.parseInt(dimension.toString()) != dims) {
            throw new IllegalStateException("the collection " + collection + " has vectors of " + dimension
                                            + " dimensions, the embedding model makes " + dims);
        }
    }

    @Override
    public void close() {
        try {
            client.close();
        } catch (IOException e) {
            logger.warn("Closing the Solr client failed", e);
        }
    }

    private <T> T call(String what, SolrCall<T> call) {
        try {
            return call.run();
        } catch (SolrServerException | IOException | RuntimeException e) {
            // SolrException too (a missing collection, a replica down): the engine's state, not the request's.
            throw unavailable(what, e);
        }
    }

    private DomainException unavailable(String what, Exception cause) {
        final DomainException error = DomainException.of(
                ErrorCode.ERROR_CODE_UNAVAILABLE,
                "the search engine (SolrCloud) cannot " + what + " the collection " + collection + " now",
                Map.of("engine", "solr", "collection", collection));
        error.initCause(cause);
        return error;
    }

    @FunctionalInterface
    private interface SolrCall<T> {
        T run() throws SolrServerException, IOException;
    }

    @FunctionalInterface
    private interface FloatOp {
        float apply(float value);
    }
}
