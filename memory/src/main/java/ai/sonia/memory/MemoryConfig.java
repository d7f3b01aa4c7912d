package ai.sonia.memory;

import java.time.Duration;

import ai.sonia.runtime.ConfigKey;

/**
 * The memory engine's knobs: the {@code services.memory} section of the configuration file, each key declared
 * once here with its default ({@link ConfigKey}), bound by {@code StackConfig.service("memory", MemoryConfig.class)}.
 * Immutable, validated once.
 */
@ConfigKey("The memory engine.")
public record MemoryConfig(
        @ConfigKey(value = "Longest text a memory may hold.", def = "16384") int maxTextChars,
        @ConfigKey(value = "Memories one user may keep (any state but forgotten); a store past it is RATE_LIMITED "
                           + "(memories_per_user), so one user cannot fill the disk the others' memories live on.",
                   def = "50000") long maxMemoriesPerUser,
        @ConfigKey(value = "Characters of text one user's memories may hold together; a store past it is "
                           + "RATE_LIMITED (text_chars_per_user).", def = "33554432") long maxTextCharsPerUser,
        @ConfigKey(value = "Decay half-life of an untouched memory.", def = "720") double halfLifeHours,
        @ConfigKey(value = "The decay factor of a very old memory, 0..1.", def = "0.3") double decayFloor,
        @ConfigKey(value = "Hits when a search asks for 0.", def = "10") int defaultTopK,
        @ConfigKey(value = "Most hits a search may ask for.", def = "100") int maxTopK,
        @ConfigKey(value = "How deep each signal is read before fusion.", def = "50") int candidates,
        @ConfigKey(value = "Vectors from which HNSW is used.", def = "20000") int approximateAbove,
        @ConfigKey(value = "The constant of reciprocal rank fusion.", def = "60") int rrfK,
        @ConfigKey(value = "Weight of BM25 in the fusion, 0..10.", def = "1.0") double bm25Weight,
        @ConfigKey(value = "Reader connections beside the writer.", def = "4") int readers,
        @ConfigKey(value = "Sync each commit to disk.", def = "true") boolean fullSync,
        @ConfigKey(value = "TTL sweep interval.", def = "5000") long sweepIntervalMs,
        @ConfigKey(value = "Access-time flush interval.", def = "1000") long accessFlushIntervalMs,
        @ConfigKey(value = "Wait for the embedding model.", def = "120000") long embedderLoadTimeoutMs,
        @ConfigKey(value = "ONNX Runtime threads inside one run of the bundled model (texts already run in parallel, one per core); 0: one per core.", def = "1") int embeddingThreads,
        @ConfigKey(value = "Most texts taken from the embedding queue at once.", def = "32") int embeddingBatch,
        @ConfigKey(value = "Embed those texts in one padded run: faster, but vectors shift slightly.", def = "false")
        boolean embeddingPadded,
        @ConfigKey("The embedding model; a ledger keeps the one it was built with.") Embedding embedding,
        @ConfigKey("Training mode: EVA-OS locks a tenant's memories while a training run reads them.")
        Training training,
        @ConfigKey("The search index: in this process (Lucene), or a SolrCloud collection that replicas share.")
        Search search) {

    /**
     * Where BM25 and vector search run: {@code lucene} (in this process, rebuilt from the ledger at start; the
     * default) or {@code solr} (a SolrCloud collection made from the configset {@code solr/sonia-memory} in this
     * module's jar). Either way ranking (fusion, decay) and the ledger check stay in the memory service.
     */
    public record Search(
            @ConfigKey(value = "lucene (in-process) or solr (SolrCloud, for replicas).", def = "lucene") String engine,
            @ConfigKey Solr solr) {

        public Search {
            engine = engine == null ? "lucene" : engine.trim();
            check("lucene".equals(engine) || "solr".equals(engine), "search.engine", engine, "lucene or solr");
        }

        /** Whether SolrCloud is the index. */
        public boolean solrCloud() {
            return "solr".equals(engine);
        }
    }

    /** The SolrCloud collection of {@code search.engine: solr}. */
    @ConfigKey("The SolrCloud collection of search.engine solr.")
    public record Solr(
            @ConfigKey(value = "ZooKeeper of the SolrCloud: host:port[,host:port...][/chroot].",
                       def = "127.0.0.1:9983") String zkHost,
            @ConfigKey(value = "The collection (made from the configset solr/sonia-memory).", def = "sonia-memory")
            String collection,
            @ConfigKey(value = "A write is searchable within this, ms (Solr's commitWithin); 0: at once (a soft "
                               + "commit per write, slower).", def = "1000") int commitWithinMs,
            @ConfigKey(value = "Longest wait for SolrCloud (connect, request), ms; past it: UNAVAILABLE.",
                       def = "5000") int timeoutMs) {

        public Solr {
            zkHost = zkHost == null || zkHost.isBlank() ? "127.0.0.1:9983" : zkHost.trim();
            collection = collection == null || collection.isBlank() ? "sonia-memory" : collection.trim();
            check(commitWithinMs >= 0 && commitWithinMs <= 60_000, "search.solr.commitWithinMs", commitWithinMs,
                  "0..60000");
            check(timeoutMs > 0 && timeoutMs <= 120_000, "search.solr.timeoutMs", timeoutMs, "1..120000");
        }
    }

    /**
     * The training gate ({@code ai.sonia.memory.client.EvaOsTrainingGate}): before every store, supersede,
     * invalidation or forget, memory asks EVA-OS whether the tenant is in training mode and refuses with
     * TRAINING_LOCKED while it is, or with UNAVAILABLE (naming evaos) when EVA-OS cannot answer.
     */
    public record Training(
            @ConfigKey(value = "Ask EVA-OS before each change (fail closed). Set false only for a memory that runs"
                               + " without EVA-OS: then training locks do not reach memory.", def = "true")
            boolean enforce,
            @ConfigKey(value = "How long EVA-OS's answer for a tenant is reused, ms: a lock applies within this.",
                       def = "1000") long cacheMs) {

        public Training {
            check(cacheMs >= 0 && cacheMs <= 60_000, "training.cacheMs", cacheMs, "0..60000");
        }
    }

    /** The embedding model: the bundled offline ONNX one, or an Ollama model ({@link EmbeddingChoice}). */
    public record Embedding(
            @ConfigKey(value = "bundled (offline ONNX) or ollama.", def = "bundled") String provider,
            @ConfigKey("The Ollama model.") String model,
            @ConfigKey("Its vector size.") Integer dimensions,
            @ConfigKey(value = "Ollama's URL.", shown = "OLLAMA_BASE_URL") String baseUrl) {}

    public MemoryConfig {
        check(maxTextChars > 0, "maxTextChars", maxTextChars, "> 0");
        check(maxMemoriesPerUser > 0, "maxMemoriesPerUser", maxMemoriesPerUser, "> 0");
        check(maxTextCharsPerUser >= maxTextChars, "maxTextCharsPerUser", maxTextCharsPerUser, ">= maxTextChars");
        check((long) (halfLifeHours * 60) > 0, "halfLifeHours", halfLifeHours, "> 0");
        check(decayFloor >= 0 && decayFloor <= 1, "decayFloor", decayFloor, "0..1");
        check(maxTopK > 0, "maxTopK", maxTopK, "> 0");
        check(defaultTopK > 0 && defaultTopK <= maxTopK, "defaultTopK", defaultTopK, "1..maxTopK");
        check(candidates > 0, "candidates", candidates, "> 0");
        check(approximateAbove > 0, "approximateAbove", approximateAbove, "> 0");
        check(rrfK > 0, "rrfK", rrfK, "> 0");
        check(bm25Weight >= 0 && bm25Weight <= 10, "bm25Weight", bm25Weight, "0..10");
        check(readers > 0, "readers", readers, "> 0");
        check(embeddingThreads >= 0, "embeddingThreads", embeddingThreads, ">= 0");
        check(embeddingBatch > 0, "embeddingBatch", embeddingBatch, "> 0");
    }

    /** How long until an untouched memory's decay factor is halfway to {@code decayFloor}. */
    public Duration halfLife() {
        return Duration.ofMinutes((long) (halfLifeHours * 60));
    }

    /** How often memories past their TTL are marked expired in the ledger. */
    public Duration sweepInterval() {
        return Duration.ofMillis(sweepIntervalMs);
    }

    /** How often access times and counts of returned memories are written. */
    public Duration accessFlushInterval() {
        return Duration.ofMillis(accessFlushIntervalMs);
    }

    /** How long a write or search waits for the embedding model to load. */
    public Duration embedderLoadTimeout() {
        return Duration.ofMillis(embedderLoadTimeoutMs);
    }

    private static void check(boolean ok, String name, Object value, String expected) {
        if (!ok) {
            throw new IllegalArgumentException("services.memory." + name + ": " + value + " (expected: " + expected
                                               + ')');
        }
    }
}
