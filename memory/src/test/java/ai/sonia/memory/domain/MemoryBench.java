package ai.sonia.memory.domain;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.apache.lucene.analysis.standard.StandardAnalyzer;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.KnnFloatVectorField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.document.TextField;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.Term;
import org.apache.lucene.index.VectorSimilarityFunction;
import org.apache.lucene.search.BooleanClause;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.KnnFloatVectorQuery;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.store.ByteBuffersDirectory;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import ai.sonia.common.v1.Scope;
import ai.sonia.memory.MemoryConfig;
import ai.sonia.memory.MemoryModule;
import ai.sonia.memory.domain.MemoryIndex.Scored;
import ai.sonia.memory.domain.MemoryStore.NewMemory;
import ai.sonia.memory.domain.MemoryStore.Stored;
import ai.sonia.memory.store.SolrMemoryIndex;
import ai.sonia.memory.store.SolrTestCloud;
import ai.sonia.memory.store.SqliteMemoryStore;
import ai.sonia.memory.v1.Memory;
import ai.sonia.memory.v1.MemoryKind;
import ai.sonia.memory.v1.MemoryServiceGrpc;
import ai.sonia.memory.v1.MemoryServiceGrpc.MemoryServiceBlockingStub;
import ai.sonia.memory.v1.SearchMemoriesRequest;
import ai.sonia.memory.v1.SearchMemoriesResponse;
import ai.sonia.memory.v1.StoreMemoryRequest;
import ai.sonia.memory.v1.StoreMemoryResponse;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.auth.Principal;
import ai.sonia.runtime.auth.ServiceCredentialInterceptor;
import ai.sonia.runtime.auth.ServiceCredentials;
import ai.sonia.runtime.embedding.BgeSmallEncoder;
import ai.sonia.runtime.testing.SoniaServiceExtension;

/**
 * The memory engine's benchmark: retrieval quality (hybrid vs BM25 alone vs vectors alone), store throughput,
 * commit latency, and search latency at scale side by side with Apache Lucene (BM25 + HNSW) on the same data.
 * Run by {@code scripts/bench-memory}; not part of the test run. Arguments: section names
 * ({@code quality store scale million}), default all but {@code million}.
 */
public final class MemoryBench {

    private static final int DIMS = 384;
    private static final Access BENCH = Access.of(Principal.service("bench"), "bench");
    // The model's intra-op threads: the first to load the JVM's one instance chooses, so the bench does, as the
    // service would with services.memory.embeddingThreads.
    private static final Embedder embedder = Embedder.bundled(
            Duration.ofMinutes(5), Integer.getInteger("bench.embeddingThreads", BgeSmallEncoder.DEFAULT_THREADS), 32, Boolean.getBoolean("bench.padded"));
    /** Memories each store-service run stores, and the warm-up stores before it (tiny in CI). */
    private static final int STORE_COUNT = Integer.getInteger("bench.storeCount", 400);
    private static final int STORE_WARMUP = Integer.getInteger("bench.storeWarmup", 400);
    private static final int[] STORE_CLIENTS = Arrays.stream(System.getProperty("bench.storeClients", "1,8").split(","))
                                                     .mapToInt(c -> Integer.parseInt(c.trim())).toArray();
    private static Path root;

    public static void main(String[] args) throws Exception {
        root = Path.of(System.getProperty("bench.dir", "target/bench")).toAbsolutePath();
        final Set<String> sections = args.length == 0 ? Set.of("quality", "store", "scale") : Set.of(args);
        System.out.println("# memory benchmark, " + Runtime.getRuntime().availableProcessors() + " cpus, java "
                           + System.getProperty("java.version") + ", exact scan "
                           + (VectorMath.simd() ? "SIMD (jdk.incubator.vector)" : "scalar"));
        embedder.embed("warm up");
        if (sections.contains("quality")) {
            quality();
        }
        if (sections.contains("store")) {
            store();
        }
        if (sections.contains("store-service")) {
            System.out.println("| path | memories/s | process CPU ms a memory |");
            System.out.println("|---|---|---|");
            storeService(storeTexts().subList(0, STORE_COUNT));
        }
        if (sections.contains("scale")) {
            for (String n : System.getProperty("bench.sizes", "10000,100000").split(",")) {
                scale(Integer.parseInt(n.trim()));
            }
        }
        if (sections.contains("solr")) {
            for (String n : System.getProperty("bench.solr.sizes", "100000").split(",")) {
                solr(Integer.parseInt(n.trim()));
            }
        }
        if (sections.contains("soak")) {
            soak(Integer.parseInt(System.getProperty("bench.kills", "100")));
        }
        if (sections.contains("million")) {
            million(Integer.parseInt(System.getProperty("bench.million", "1000000")));
        }
        System.exit(0);
    }

    // ---------------------------------------------------------------- quality

    private static void quality() throws Exception {
        final List<String[]> labelled = labelled();
        final Engine engine = engine("quality", 20_000);
        final List<String> facts = labelled.stream().map(l -> l[0]).distinct().toList();
        final Random random = new Random(7);
        final List<String> texts = new ArrayList<>(facts);
        for (int i = 0; i < 2_000; i++) {
            texts.add(distractor(random));
        }
        final Map<String, Long> ids = insert(engine, "q", texts, embedder.embedAll(texts));
        final MemoryFilter filter = MemoryFilter.tenant("q", System.currentTimeMillis());
        final double[] weights = {1.0, 0.5};
        final Map<String, double[][]> sums = new TreeMap<>(); // kind -> method -> {hits, reciprocal ranks, n}
        for (String[] pair : labelled) {
            final long target = ids.get(pair[0]);
            final Map<Long, Long> rows = new HashMap<>();
            final List<Long> textRanks = engine.bm25(pair[1], filter, 50, rows);
            final List<Long> vectorRanks = engine.vectors(embedder.embedQuery(pair[1]), filter, 50, rows);
            for (String kind : List.of("all", pair[2])) {
                final double[][] s = sums.computeIfAbsent(kind, k -> new double[2 + weights.length][3]);
                score(s[0], textRanks, target);
                score(s[1], vectorRanks, target);
                for (int w = 0; w < weights.length; w++) {
                    final HybridRanker ranker = new HybridRanker(60, weights[w], 3.6e6, 0.3);
                    score(s[2 + w], ranker.rank(textRanks, vectorRanks, rows, filter.nowMs()).stream()
                                          .map(HybridRanker.Hit::id).toList(), target);
                }
            }
        }
        System.out.printf("%n## retrieval quality: %d labelled queries, %d memories (%d distractors)%n",
                          labelled.size(), ids.size(), ids.size() - facts.stream().distinct().count());
        System.out.println("| queries | method | recall@10 | MRR@10 |");
        System.out.println("|---|---|---|---|");
        sums.forEach((kind, s) -> {
            final String label = kind + " (" + (int) s[0][2] + ')';
            System.out.printf("| %s | BM25 alone (engine: Lucene EnglishAnalyzer, stop words dropped) | %.3f | %.3f |%n", label,
                              s[0][0] / s[0][2], s[0][1] / s[0][2]);
            System.out.printf("| %s | vectors alone (bge-small-en-v1.5-q) | %.3f | %.3f |%n", label,
                              s[1][0] / s[1][2], s[1][1] / s[1][2]);
            for (int w = 0; w < weights.length; w++) {
                System.out.printf("| %s | hybrid, RRF k=60, BM25 weight %.1f | %.3f | %.3f |%n", label, weights[w],
                                  s[2 + w][0] / s[2 + w][2], s[2 + w][1] / s[2 + w][2]);
            }
        });
        close(engine);
    }

    private static void score(double[] sums, List<Long> ranked, long target) {
        sums[2]++;
        final int rank = ranked.subList(0, Math.min(10, ranked.size())).indexOf(target);
        if (rank >= 0) {
            sums[0]++;
            sums[1] += 1.0 / (rank + 1);
        }
    }

    private static List<String[]> labelled() throws IOException {
        final List<String[]> pairs = new ArrayList<>();
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(
                MemoryBench.class.getResourceAsStream("/bench/labelled.tsv"), StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                if (!line.startsWith("#") && line.contains("\t")) {
                    pairs.add(line.split("\t"));
                }
            }
        }
        return pairs;
    }

    private static final String[] SUBJECTS = {"The user", "The user's friend", "The user's colleague", "The team"};
    private static final String[] VERBS = {"bought", "mentioned", "forgot", "booked", "cancelled", "asked about",
                                           "recommended", "finished", "started", "lost", "found", "shared"};
    private static final String[] OBJECTS = {"a new phone", "the quarterly report", "a table for four",
                                             "the gym membership", "a book on history", "the train tickets",
                                             "a pair of running shoes", "the hotel in Rome", "a birthday present",
                                             "the insurance claim", "a podcast about space", "the printer ink",
                                             "a cooking class", "the concert tickets", "a new mattress",
                                             "the library card", "a photo album", "the tax return"};
    private static final String[] TIMES = {"yesterday", "last week", "on Monday", "this morning", "in April",
                                           "two days ago", "at lunch", "before the holidays"};

    private static String distractor(Random random) {
        return SUBJECTS[random.nextInt(SUBJECTS.length)] + ' ' + VERBS[random.nextInt(VERBS.length)] + ' '
               + OBJECTS[random.nextInt(OBJECTS.length)] + ' ' + TIMES[random.nextInt(TIMES.length)] + " (note "
               + random.nextInt(100_000) + ").";
    }

    // ---------------------------------------------------------------- store

    private static List<String> storeTexts() {
        final Random random = new Random(11);
        final List<String> texts = new ArrayList<>();
        for (int i = 0; i < 1_024; i++) {
            texts.add(distractor(random));
        }
        return texts;
    }

    private static void store() throws Exception {
        final List<String> texts = storeTexts();
        System.out.printf("%n## store throughput (bundled quantized model, full sync, group commit)%n");
        System.out.println("| path | memories/s |");
        System.out.println("|---|---|");
        long start = System.nanoTime();
        for (int i = 0; i < texts.size(); i += 64) {
            embedder.embedAll(texts.subList(i, i + 64));
        }
        System.out.printf("| embedding only, batches of 64 | %.0f |%n", texts.size() / seconds(start));
        // A batch pads its texts to the longest; the quantized model's rounding then differs a little from a run
        // of the text alone.
        final List<float[]> batchedVectors = embedder.embedAll(texts.subList(0, 64));
        double minCosine = 1;
        for (int i = 0; i < 64; i++) {
            minCosine = Math.min(minCosine, TenantVectors.dot(embedder.embed(texts.get(i)), batchedVectors.get(i), 0, DIMS));
        }
        System.out.printf("| (same text in a batch of 64 vs alone, padded runs %s: lowest cosine %.5f) | |%n",
                          Boolean.getBoolean("bench.padded") ? "on" : "off", minCosine);

        final Engine batched = engine("store-batched", 20_000);
        start = System.nanoTime();
        for (int i = 0; i < texts.size(); i += 64) {
            final List<String> batch = texts.subList(i, i + 64);
            insert(batched, "s", batch, embedder.embedAll(batch));
        }
        System.out.printf("| embed + store, batches of 64 (one group commit each) | %.0f |%n",
                          texts.size() / seconds(start));
        close(batched);

        final List<String> slice = texts.subList(0, STORE_COUNT);
        for (int clients : STORE_CLIENTS) {
            final Engine engine = engine("store-rpc-" + clients, 20_000);
            start = System.nanoTime();
            parallel(clients, slice.size(), i -> engine.store(storeRequest(slice.get(i)), BENCH));
            System.out.printf("| StoreMemory one by one, %d concurrent caller(s), in-process | %.0f |%n", clients,
                              slice.size() / seconds(start));
            close(engine);
        }
        storeService(slice);

        System.out.printf("%n## commit latency (one memory per write, vector precomputed, synchronous=FULL)%n");
        System.out.println("| concurrent writers | p50 ms | p99 ms | writes/s |");
        System.out.println("|---|---|---|---|");
        final float[] vector = embedder.embed("commit latency probe");
        for (int writers : new int[] {1, 8}) {
            final Engine engine = engine("commit-" + writers, 20_000);
            final long[] latencies = new long[2_000];
            start = System.nanoTime();
            parallel(writers, latencies.length, i -> {
                final long t = System.nanoTime();
                final NewMemory memory = newMemory("c", "commit probe " + i, vector);
                engine.store().store(memory, BENCH.actor(), System.currentTimeMillis());
                latencies[i] = System.nanoTime() - t;
                return null;
            });
            final double elapsed = seconds(start);
            System.out.printf("| %d | %.2f | %.2f | %.0f |%n", writers, pct(latencies, 50), pct(latencies, 99),
                              latencies.length / elapsed);
            close(engine);
        }
    }

    /** StoreMemory through the service as deployed: a real memory server, gRPC on loopback. */
    private static void storeService(List<String> slice) throws Exception {
        for (int clients : STORE_CLIENTS) {
            final Path home = root.resolve("store-grpc-" + clients + '-' + System.nanoTime());
            final SoniaServiceExtension server = SoniaServiceExtension.of(new MemoryModule()).home(home);
            Files.createDirectories(home.resolve("config"));
            Files.writeString(home.resolve("config/sonia.json"),
                              "{\"services\":{\"memory\":{\"training\":{\"enforce\":false}}}}");
            server.start();
            final MemoryServiceBlockingStub stub = MemoryServiceGrpc.newBlockingStub(server.channel()).withInterceptors(
                    new ServiceCredentialInterceptor(ServiceCredentials.of(server.stackConfig()), "bench"));
            for (int i = 0; i < STORE_WARMUP; i++) {
                stub.storeMemory(storeRequest("warm up the service " + i)); // the first waits for the model
            }
            final Map<String, Long> threadsBefore = threadCpu();
            final long cpu = processCpuNanos();
            final long start = System.nanoTime();
            parallel(clients, slice.size(), i -> stub.storeMemory(storeRequest(slice.get(i))));
            final double cpuMs = (processCpuNanos() - cpu) / 1e6 / slice.size();
            final StringBuilder threads = new StringBuilder();
            threadCpu().forEach((name, nanos) -> {
                final double ms = (nanos - threadsBefore.getOrDefault(name, 0L)) / 1e6 / slice.size();
                if (ms >= 0.05) {
                    threads.append(String.format(" %s %.2f;", name, ms));
                }
            });
            System.out.printf("| StoreMemory over gRPC (the real service), %d concurrent client(s) | %.0f | %.1f |%n",
                              clients, slice.size() / seconds(start), cpuMs);
            System.out.println("(CPU ms a memory by thread, Java threads only:" + threads + ")");
            server.close();
        }
    }

    // ---------------------------------------------------------------- scale

    private static void scale(int n) throws Exception {
        System.out.printf("%n## search at %,d memories (synthetic texts and clustered synthetic vectors)%n", n);
        final Synthetic data = new Synthetic(n, 42);
        final Engine engine = engine("scale-" + n, 20_000);
        long start = System.nanoTime();
        for (int i = 0; i < n; i += 1_000) {
            insert(engine, "t", data.texts.subList(i, Math.min(n, i + 1_000)),
                   data.vectors.subList(i, Math.min(n, i + 1_000)));
        }
        final double sqliteLoad = seconds(start);
        final Lucene lucene = new Lucene();
        start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            lucene.add("t", i, data.texts.get(i), data.vectors.get(i));
        }
        lucene.commit();
        final double luceneLoad = seconds(start);
        System.out.printf("load: Sonia ledger + Lucene text + HNSW %.1f s (%.0f/s); Lucene BM25 + HNSW %.1f s (%.0f/s)%n",
                          sqliteLoad, n / sqliteLoad, luceneLoad, n / luceneLoad);

        final int queries = 200;
        final List<String> texts = new ArrayList<>();
        final List<float[]> vectors = new ArrayList<>();
        data.queries(queries, texts, vectors);
        final MemoryFilter filter = MemoryFilter.tenant("t", System.currentTimeMillis());
        final TenantVectors exact = data.exact();
        System.out.println("| query (Sonia and Lucene run alternately) | Sonia p50 ms | Sonia p95 ms | Lucene p50 ms | Lucene p95 ms | p95 ratio |");
        System.out.println("|---|---|---|---|---|---|");
        row("hybrid incl. query embedding (top 10)",
            pair(queries, q -> engine.search(SearchMemoriesRequest.newBuilder()
                                                                  .setScope(Scope.newBuilder().setTenant("t"))
                                                                  .setQuery(texts.get(q)).build(), BENCH),
                 q -> lucene.hybrid("t", texts.get(q), embedder.embedQuery(texts.get(q)), 50)));
        row("BM25, 2-4 rare-ish terms (top 50)",
            pair(queries, q -> engine.bm25(texts.get(q), filter, 50, new HashMap<>()),
            q -> lucene.bm25("t", texts.get(q), 50)));
        row("BM25, very common terms \"the user\" (top 50)",
            pair(50, q -> engine.bm25("the user", filter, 50, new HashMap<>()),
            q -> lucene.bm25("t", "the user", 50)));
        // The same two without the ledger check: where the BM25 gap is (the engine's Lucene search, or SQLite).
        row("BM25, 2-4 rare-ish terms, engine index only, no ledger check (top 50)",
            pair(queries, q -> engine.index().bm25("t", SearchPipeline.queryWords(texts.get(q)), 50),
                 q -> lucene.bm25("t", texts.get(q), 50)));
        row("BM25, \"the user\", engine index only, no ledger check (top 50)",
            pair(50, q -> engine.index().bm25("t", SearchPipeline.queryWords("the user"), 50),
                 q -> lucene.bm25("t", "the user", 50)));
        // Ranking's check alone (the ledger's filter and reference times of a BM25 ranking's 50 ids), beside the
        // peer's whole query: what the check adds to the engine's path.
        final List<List<Long>> ranked = new ArrayList<>();
        for (String text : texts) {
            ranked.add(engine.index().bm25("t", SearchPipeline.queryWords(text), 50).stream().map(Scored::id).toList());
        }
        row("ranking's check alone, the 50 ids of a BM25 ranking (Lucene: its whole BM25 query)",
            pair(queries, q -> engine.store().eligibleReferences(filter, ranked.get(q)),
                 q -> lucene.bm25("t", texts.get(q), 50)));
        // The BM25 path deleted from the engine, measured on the same texts: SQLite FTS5 (porter unicode61, as
        // the ledger had it), without the ledger's filter join.
        try (Connection fts = DriverManager.getConnection("jdbc:sqlite:" + root.resolve("fts-" + System.nanoTime() + ".db"))) {
            try (Statement statement = fts.createStatement()) {
                statement.execute("CREATE VIRTUAL TABLE f USING fts5(text, tokenize='porter unicode61')");
            }
            fts.setAutoCommit(false);
            try (var insert = fts.prepareStatement("INSERT INTO f (rowid, text) VALUES (?, ?)")) {
                for (int i = 0; i < n; i++) {
                    insert.setLong(1, i + 1);
                    insert.setString(2, data.texts.get(i));
                    insert.addBatch();
                }
                insert.executeBatch();
            }
            fts.commit();
            row("BM25 via SQLite FTS5 (path deleted), rare-ish terms",
                pair(queries, q -> fts5(fts, texts.get(q)), q -> lucene.bm25("t", texts.get(q), 50)));
            row("BM25 via SQLite FTS5 (path deleted), \"the user\"",
                pair(50, q -> fts5(fts, "the user"), q -> lucene.bm25("t", "the user", 50)));
        }
        row("vectors, engine path (index + filter), top 50",
            pair(queries, q -> engine.vectors(vectors.get(q), filter, 50, new HashMap<>()),
            q -> lucene.knn("t", vectors.get(q), 50)));
        row("vectors, engine index only, no ledger check (top 50)",
            pair(queries, q -> engine.index().nearest("t", vectors.get(q), 50),
            q -> lucene.knn("t", vectors.get(q), 50)));
        row("vectors, exact scan (top 10)",
            pair(queries, q -> exact.nearest(vectors.get(q), 10),
            q -> lucene.knn("t", vectors.get(q), 10)));
        System.out.printf("HNSW recall@10 against exact search (engine index, graph %s): %.3f%n",
                          engine.index().graphReady() ? "ready" : "NOT ready", recall(exact, engine.index(), vectors));
        lucene.close();
        close(engine);
    }

    // ---------------------------------------------------------------- SolrCloud against the in-process index

    /**
     * The search pipeline over one ledger, on two indexes: SolrCloud (a one-node MiniSolrCloudCluster in this
     * JVM, reached over loopback HTTP as a remote one would be) and the in-process Lucene index. Solr is filled
     * the way a service moving onto it is: from the ledger, in batches, at start.
     */
    private static void solr(int n) throws Exception {
        System.out.printf("%n## memory search at %,d memories: SolrCloud against the in-process index%n", n);
        long start = System.nanoTime();
        final SolrTestCloud cloud = SolrTestCloud.get();
        final double cloudStart = seconds(start);
        start = System.nanoTime();
        final String collection = cloud.newCollection("bench");
        System.out.printf("%nMiniSolrCloudCluster (1 node, embedded ZooKeeper) up in %.1f s; collection made in %.1f s%n",
                          cloudStart, seconds(start));
        final Synthetic data = new Synthetic(n, 42);
        final Engine engine = engine("solr-" + n, 20_000);
        start = System.nanoTime();
        for (int i = 0; i < n; i += 1_000) {
            insert(engine, "t", data.texts.subList(i, Math.min(n, i + 1_000)),
                   data.vectors.subList(i, Math.min(n, i + 1_000)));
        }
        final double inProcessLoad = seconds(start);
        final MemoryConfig.Solr defaults = cloud.config(collection);
        final MemoryIndex solr = SolrMemoryIndex.connect(
                new MemoryConfig.Solr(defaults.zkHost(), collection, 1_000, 60_000), DIMS);
        start = System.nanoTime();
        solr.load(engine.store());
        while (solr.problem() != null) {
            Thread.sleep(100);
        }
        final double solrLoad = seconds(start);
        System.out.printf("load: ledger + in-process Lucene text + HNSW %.1f s (%.0f/s); SolrCloud from the ledger "
                          + "(batches of 100, one commit) %.1f s (%.0f/s)%n",
                          inProcessLoad, n / inProcessLoad, solrLoad, n / solrLoad);
        final MemoryConfig memoryConfig = StackConfig.bind("services.memory", new ObjectMapper().createObjectNode(),
                                                           MemoryConfig.class);
        final SearchPipeline onSolr = new SearchPipeline(memoryConfig, engine.store(), embedder, solr,
                                                         new AccessTracker(), Clock.systemUTC());

        final int queries = Integer.getInteger("bench.solr.queries", 200);
        final List<String> texts = new ArrayList<>();
        final List<float[]> vectors = new ArrayList<>();
        data.queries(queries, texts, vectors);
        final MemoryFilter filter = MemoryFilter.tenant("t", System.currentTimeMillis());
        System.out.println("| query (both run alternately, same ledger) | SolrCloud p50 ms | SolrCloud p95 ms "
                           + "| in-process p50 ms | in-process p95 ms | p95 ratio |");
        System.out.println("|---|---|---|---|---|---|");
        final SearchMemoriesRequest.Builder request = SearchMemoriesRequest.newBuilder()
                                                                           .setScope(Scope.newBuilder().setTenant("t"));
        row("hybrid incl. query embedding (top 10)",
            pair(queries, q -> onSolr.search(request.setQuery(texts.get(q)).build(), BENCH),
                 q -> engine.search(request.setQuery(texts.get(q)).build(), BENCH)));
        row("BM25, 2-4 rare-ish terms, engine path (top 50)",
            pair(queries, q -> onSolr.bm25(texts.get(q), filter, 50, new HashMap<>()),
                 q -> engine.bm25(texts.get(q), filter, 50, new HashMap<>())));
        row("BM25, very common terms \"the user\", engine path (top 50)",
            pair(Math.min(queries, 50), q -> onSolr.bm25("the user", filter, 50, new HashMap<>()),
                 q -> engine.bm25("the user", filter, 50, new HashMap<>())));
        row("vectors, engine path (HNSW + ledger check), top 50",
            pair(queries, q -> onSolr.vectors(vectors.get(q), filter, 50, new HashMap<>()),
                 q -> engine.vectors(vectors.get(q), filter, 50, new HashMap<>())));
        row("vectors, index alone (HNSW), top 10",
            pair(queries, q -> solr.nearest("t", vectors.get(q), 10),
                 q -> engine.index().nearest("t", vectors.get(q), 10)));
        System.out.printf("SolrCloud HNSW recall@10 against exact search: %.3f; its index has %d segments%n",
                          recall(data.exact(), solr, vectors), cloud.segments(collection));
        // Each segment is a graph of its own: merged into one, as a quiet collection ends up after its merges.
        start = System.nanoTime();
        cloud.optimize(collection);
        System.out.printf("after Solr's optimize to 1 segment (%.1f s):%n", seconds(start));
        row("hybrid incl. query embedding (top 10), 1 segment",
            pair(queries, q -> onSolr.search(request.setQuery(texts.get(q)).build(), BENCH),
                 q -> engine.search(request.setQuery(texts.get(q)).build(), BENCH)));
        row("vectors, engine path (HNSW + ledger check), top 50, 1 segment",
            pair(queries, q -> onSolr.vectors(vectors.get(q), filter, 50, new HashMap<>()),
                 q -> engine.vectors(vectors.get(q), filter, 50, new HashMap<>())));
        row("BM25, 2-4 rare-ish terms, engine path (top 50), 1 segment",
            pair(queries, q -> onSolr.bm25(texts.get(q), filter, 50, new HashMap<>()),
                 q -> engine.bm25(texts.get(q), filter, 50, new HashMap<>())));
        solr.close();
        close(engine);
    }

    /** The mean recall@10 of {@code index}'s nearest against an exact scan, over the tenant "t". */
    private static double recall(TenantVectors exact, MemoryIndex index, List<float[]> queries) {
        double recall = 0;
        for (float[] query : queries) {
            final Set<Long> truth = Set.copyOf(exact.nearest(query, 10).stream().map(Scored::id).toList());
            recall += index.nearest("t", query, 10).stream().map(Scored::id).filter(truth::contains).count() / 10.0;
        }
        return recall / queries.size();
    }

    private static List<Long> fts5(Connection fts, String query) throws Exception {
        final String match = String.join(" OR ", SearchPipeline.queryWords(query).stream()
                                                              .map(w -> '"' + w + '"').toList());
        try (var select = fts.prepareStatement("SELECT rowid FROM f WHERE f MATCH ? ORDER BY rank LIMIT 50")) {
            select.setString(1, match);
            final List<Long> ids = new ArrayList<>();
            try (ResultSet rs = select.executeQuery()) {
                while (rs.next()) {
                    ids.add(rs.getLong(1));
                }
            }
            return ids;
        }
    }

    // ---------------------------------------------------------------- soak

    /** Kills a writing child process with SIGKILL at random moments; no acknowledged write may be lost. */
    private static void soak(int kills) throws Exception {
        final Path dir = root.resolve("soak-" + System.nanoTime());
        Files.createDirectories(dir);
        final Path file = dir.resolve("memory.db");
        SqliteMemoryStore.open(file, 1, true).close();
        final Random random = new Random(13);
        final String java = ProcessHandle.current().info().command().orElse("java");
        final Map<String, String> acknowledged = new HashMap<>();
        int lost = 0;
        int corrupt = 0;
        final long start = System.nanoTime();
        for (int kill = 0; kill < kills; kill++) {
            final Process child = new ProcessBuilder(java, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp",
                                                     System.getProperty("java.class.path"),
                                                     SoakWriter.class.getName(), file.toString(),
                                                     String.valueOf(kill * 1_000_000L))
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            final BufferedReader acks = new BufferedReader(new InputStreamReader(child.getInputStream(),
                                                                                 StandardCharsets.UTF_8));
            // Let it write for a random while after its first acknowledgement, then kill it mid-burst.
            String line = acks.readLine();
            final long until = System.nanoTime() + (50 + random.nextInt(400)) * 1_000_000L;
            while (line != null) {
                final String[] parts = line.split(" ", 3);
                acknowledged.put(parts[1], parts[2]);
                if (System.nanoTime() > until) {
                    // SIGKILL through the handle: Process.destroyForcibly would also close our end of the pipe.
                    child.toHandle().destroyForcibly();
                    break;
                }
                line = acks.readLine();
            }
            // Acknowledgements already printed before the kill count too.
            while ((line = acks.readLine()) != null) {
                final String[] parts = line.split(" ", 3);
                acknowledged.put(parts[1], parts[2]);
            }
            child.waitFor();
            try (Connection connection = DriverManager.getConnection("jdbc:sqlite:" + file);
                 Statement statement = connection.createStatement()) {
                try (ResultSet rs = statement.executeQuery("PRAGMA integrity_check")) {
                    rs.next();
                    corrupt += "ok".equals(rs.getString(1)) ? 0 : 1;
                }
                final Set<String> present = new HashSet<>();
                try (ResultSet rs = statement.executeQuery("SELECT name FROM memories")) {
                    while (rs.next()) {
                        present.add(rs.getString(1));
                    }
                }
                lost = (int) acknowledged.keySet().stream().filter(name -> !present.contains(name)).count();
            }
            if (lost > 0 || corrupt > 0) {
                break;
            }
        }
        System.out.printf("%n## durability soak: %d SIGKILLs during 4-thread write bursts, %.0f s%n", kills,
                          seconds(start));
        System.out.printf("acknowledged writes: %d; lost: %d; integrity_check failures: %d%n",
                          acknowledged.size(), lost, corrupt);
    }

    // ---------------------------------------------------------------- million

    private static void million(int n) throws Exception {
        System.out.printf("%n## approximate vector search at %,d synthetic vectors (the engine's HNSW index: Lucene, M=16, search beam >= 100)%n",
                          n);
        final Synthetic data = new Synthetic(n, 99, false);
        final LuceneIndex hnsw = new LuceneIndex();
        final TenantVectors exact = new TenantVectors(DIMS);
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            hnsw.addVector("t", i, data.vectors.get(i));
            exact.add(i, data.vectors.get(i));
        }
        System.out.printf("graph build: %.0f s%n", seconds(start));
        final Random random = new Random(5);
        final List<float[]> queries = new ArrayList<>();
        for (int q = 0; q < 200; q++) {
            queries.add(data.nearVector(random));
        }
        hnsw.nearest("t", queries.get(0), 10);
        final long[] latencies = time(queries.size(), q -> hnsw.nearest("t", queries.get(q), 10));
        double recall = 0;
        for (int q = 0; q < 50; q++) {
            final Set<Long> truth = Set.copyOf(exact.nearest(queries.get(q), 10).stream().map(Scored::id).toList());
            recall += hnsw.nearest("t", queries.get(q), 10).stream().filter(s -> truth.contains(s.id())).count()
                      / 10.0;
        }
        final long[] exactLatencies = time(20, q -> exact.nearest(queries.get(q), 10));
        System.out.printf("HNSW top 10: p50 %.2f ms, p95 %.2f ms, recall@10 %.3f; exact scan p50 %.1f ms%n",
                          pct(latencies, 50), pct(latencies, 95), recall / 50, pct(exactLatencies, 50));
    }

    // ---------------------------------------------------------------- helpers

    /** An engine and its parts, wired as the module wires them. */
    private record Engine(MemoryEngine engine, SearchPipeline search, SqliteMemoryStore store,
                          VectorIndex index, Housekeeping housekeeping) {

        SearchMemoriesResponse search(SearchMemoriesRequest request, Access access) {
            return search.search(request, access);
        }

        StoreMemoryResponse store(StoreMemoryRequest request, Access access) {
            return engine.store(request, access);
        }

        List<Long> bm25(String query, MemoryFilter filter, int depth, Map<Long, Long> rows) {
            return search.bm25(query, filter, depth, rows);
        }

        List<Long> vectors(float[] query, MemoryFilter filter, int depth, Map<Long, Long> rows) {
            return search.vectors(query, filter, depth, rows);
        }
    }

    private static Engine engine(String name, int approximateAbove) throws IOException, InterruptedException {
        final Path dir = root.resolve(name + '-' + System.nanoTime());
        Files.createDirectories(dir);
        final ObjectNode config = new ObjectMapper().createObjectNode()
                                                    .put("approximateAbove", approximateAbove)
                                                    .put("sweepIntervalMs", 3_600_000);
        final MemoryConfig memoryConfig = StackConfig.bind("services.memory", config, MemoryConfig.class);
        final SqliteMemoryStore store = SqliteMemoryStore.open(dir.resolve("memory.db"), 4, true);
        final VectorIndex index = new VectorIndex(DIMS, memoryConfig.approximateAbove());
        final AccessTracker accesses = new AccessTracker();
        final Clock clock = Clock.systemUTC();
        final IndexLoader loader = new IndexLoader(store, index);
        final Engine engine = new Engine(
                new MemoryEngine(memoryConfig, store, store.auditLog(), embedder, index, accesses, TrainingGate.OFF, clock),
                new SearchPipeline(memoryConfig, store, embedder, index, accesses, clock), store, index,
                new Housekeeping(memoryConfig, store, accesses, clock, loader::load, loader::followChanges));
        // Wait for the (empty) graph, so every insert feeds it as in a long-running server.
        while (!engine.index().graphReady()) {
            Thread.sleep(10);
        }
        return engine;
    }

    private static void close(Engine engine) throws IOException {
        engine.housekeeping().close();
        engine.index().close();
        engine.store().close();
    }

    /** CPU time of this whole process (server and clients), all threads, native ones (the model's) included. */
    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    /** CPU time of the live Java threads, summed by name with the numbers taken out (a pool's threads together). */
    private static Map<String, Long> threadCpu() {
        final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        final Map<String, Long> byName = new TreeMap<>();
        for (long id : threads.getAllThreadIds()) {
            final ThreadInfo info = threads.getThreadInfo(id);
            final long nanos = threads.getThreadCpuTime(id);
            if (info != null && nanos > 0) {
                byName.merge(info.getThreadName().replaceAll("[0-9]+", "N"), nanos, Long::sum);
            }
        }
        return byName;
    }

    private static StoreMemoryRequest storeRequest(String text) {
        return StoreMemoryRequest.newBuilder()
                                 .setMemory(Memory.newBuilder().setScope(Scope.newBuilder().setTenant("s")).setText(text))
                                 .build();
    }

    private static NewMemory newMemory(String tenant, String text, float[] vector) {
        return new NewMemory(Memory.newBuilder().setText(text).setKind(MemoryKind.MEMORY_KIND_NOTE)
                                   .setScope(Scope.newBuilder().setTenant(tenant)).build(),
                             ContentHash.of(text), vector, embedder.model(), null, "");
    }

    /** Stores many memories in one group commit, then indexes their vectors; returns text to id. */
    private static Map<String, Long> insert(Engine engine, String tenant, List<String> texts,
                                            List<float[]> vectors) {
        final long now = System.currentTimeMillis();
        final List<NewMemory> memories = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            memories.add(newMemory(tenant, texts.get(i), vectors.get(i)));
        }
        final List<Stored> stored = engine.store().storeAll(memories, BENCH.actor(), now);
        final Map<String, Long> ids = new HashMap<>();
        for (int i = 0; i < texts.size(); i++) {
            ids.put(texts.get(i), stored.get(i).row().id());
        }
        for (int i = 0; i < texts.size(); i++) {
            engine.index().add(tenant, ids.get(texts.get(i)), texts.get(i), vectors.get(i));
        }
        return ids;
    }

    @FunctionalInterface
    private interface Indexed {
        Object run(int i) throws Exception;
    }

    private static void parallel(int threads, int count, Indexed work) throws Exception {
        final ExecutorService pool = Executors.newFixedThreadPool(threads);
        final List<Future<?>> futures = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            final int offset = t;
            futures.add(pool.submit(() -> {
                for (int i = offset; i < count; i += threads) {
                    work.run(i);
                }
                return null;
            }));
        }
        for (Future<?> future : futures) {
            future.get();
        }
        pool.shutdown();
    }

    private static long[] time(int count, Indexed work) {
        try {
            for (int i = 0; i < Math.min(30, count); i++) {
                work.run(i); // warm up (the JIT, caches)
            }
            final long[] latencies = new long[count];
            for (int i = 0; i < count; i++) {
                final long t = System.nanoTime();
                work.run(i);
                latencies[i] = System.nanoTime() - t;
            }
            return latencies;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Latencies of {@code sonia} and {@code lucene}, run alternately query by query (after warming both), so
     * that a load spike of the shared machine falls on both sides alike.
     */
    private static long[][] pair(int count, Indexed sonia, Indexed lucene) {
        try {
            for (int i = 0; i < Math.min(30, count); i++) {
                sonia.run(i);
                lucene.run(i);
            }
            final long[][] latencies = new long[2][count];
            for (int i = 0; i < count; i++) {
                long t = System.nanoTime();
                sonia.run(i);
                latencies[0][i] = System.nanoTime() - t;
                t = System.nanoTime();
                lucene.run(i);
                latencies[1][i] = System.nanoTime() - t;
            }
            return latencies;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static void row(String name, long[][] pair) {
        row(name, pair[0], pair[1]);
    }

    private static void row(String name, long[] sonia, long[] lucene) {
        System.out.printf("| %s | %.2f | %.2f | %.2f | %.2f | %.2f |%n", name, pct(sonia, 50), pct(sonia, 95),
                          pct(lucene, 50), pct(lucene, 95), pct(sonia, 95) / pct(lucene, 95));
    }

    private static double pct(long[] nanos, int percentile) {
        final long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        final int index = Math.min(sorted.length - 1, (int) Math.ceil(percentile / 100.0 * sorted.length) - 1);
        return sorted[Math.max(0, index)] / 1e6;
    }

    private static double seconds(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e9;
    }

    /** Zipf-distributed synthetic words and clustered unit vectors, reproducible by seed. */
    private static final class Synthetic {
        final List<String> texts = new ArrayList<>();
        final List<float[]> vectors = new ArrayList<>();
        private final float[][] centroids = new float[512][DIMS];
        private final double[] zipf = new double[20_000];
        private final Random random;

        Synthetic(int n, long seed) {
            this(n, seed, true);
        }

        Synthetic(int n, long seed, boolean withTexts) {
            random = new Random(seed);
            for (float[] centroid : centroids) {
                for (int d = 0; d < DIMS; d++) {
                    centroid[d] = (float) random.nextGaussian();
                }
            }
            double sum = 0;
            for (int i = 0; i < zipf.length; i++) {
                sum += 1.0 / (i + 1);
                zipf[i] = sum;
            }
            for (int i = 0; i < zipf.length; i++) {
                zipf[i] /= sum;
            }
            for (int i = 0; i < n; i++) {
                if (withTexts) {
                    final StringBuilder text = new StringBuilder("The user");
                    for (int w = 0; w < 10; w++) {
                        text.append(' ').append(word(random));
                    }
                    texts.add(text.append(" #").append(i).toString());
                }
                vectors.add(near(random));
            }
        }

        /** {@code count} query texts and vectors near the data, the same for every run. */
        void queries(int count, List<String> texts, List<float[]> vectors) {
            final Random random = new Random(3);
            for (int q = 0; q < count; q++) {
                texts.add(query(random));
                vectors.add(nearVector(random));
            }
        }

        /** The vectors in an exact index, by the ledger's row ids (from 1, in insertion order). */
        TenantVectors exact() {
            final TenantVectors exact = new TenantVectors(DIMS);
            for (int i = 0; i < vectors.size(); i++) {
                exact.add(i + 1, vectors.get(i));
            }
            return exact;
        }

        String query(Random r) {
            return word(r) + ' ' + word(r) + ' ' + word(r);
        }

        float[] nearVector(Random r) {
            return near(r);
        }

        private String word(Random r) {
            int index = Arrays.binarySearch(zipf, r.nextDouble());
            index = index < 0 ? -index - 1 : index;
            return "w" + Integer.toString(Math.min(index, zipf.length - 1), 36);
        }

        private float[] near(Random r) {
            final float[] centroid = centroids[r.nextInt(centroids.length)];
            final float[] v = new float[DIMS];
            for (int d = 0; d < DIMS; d++) {
                v[d] = centroid[d] + (float) (r.nextGaussian() * 0.8);
            }
            return Embedder.normalize(v);
        }
    }

    /** The peer: one Lucene index with BM25 over the text and HNSW over the vectors, tenant as a filter. */
    private static final class Lucene implements AutoCloseable {
        private final ByteBuffersDirectory directory = new ByteBuffersDirectory();
        private final StandardAnalyzer analyzer = new StandardAnalyzer();
        private final IndexWriter writer;
        private IndexSearcher searcher;

        Lucene() throws IOException {
            writer = new IndexWriter(directory, new IndexWriterConfig(analyzer).setRAMBufferSizeMB(256));
        }

        void add(String tenant, long id, String text, float[] vector) throws IOException {
            final Document document = new Document();
            document.add(new StringField("tenant", tenant, Field.Store.NO));
            document.add(new TextField("text", text, Field.Store.NO));
            document.add(new KnnFloatVectorField("vector", vector, VectorSimilarityFunction.DOT_PRODUCT));
            writer.addDocument(document);
        }

        void commit() throws IOException {
            writer.commit();
            searcher = new IndexSearcher(DirectoryReader.open(directory));
        }

        ScoreDoc[] bm25(String tenant, String query, int k) throws IOException {
            final BooleanQuery.Builder terms = new BooleanQuery.Builder();
            for (String word : SearchPipeline.queryWords(query)) {
                terms.add(new TermQuery(new Term("text", word)), BooleanClause.Occur.SHOULD);
            }
            final BooleanQuery filtered = new BooleanQuery.Builder()
                    .add(terms.build(), BooleanClause.Occur.MUST)
                    .add(new TermQuery(new Term("tenant", tenant)), BooleanClause.Occur.FILTER).build();
            return searcher.search(filtered, k).scoreDocs;
        }

        ScoreDoc[] knn(String tenant, float[] vector, int k) throws IOException {
            // The same beam as the engine's graph search (at least 100), cut to k.
            return searcher.search(new KnnFloatVectorQuery("vector", vector, Math.max(k, 100),
                                                           new TermQuery(new Term("tenant", tenant))), k).scoreDocs;
        }

        /** BM25 and kNN top lists fused by RRF, as the engine does (the embedding is the caller's). */
        List<Integer> hybrid(String tenant, String query, float[] vector, int depth) throws IOException {
            final Map<Integer, Double> fused = new TreeMap<>();
            final ScoreDoc[] text = bm25(tenant, query, depth);
            final ScoreDoc[] knn = knn(tenant, vector, depth);
            for (int i = 0; i < text.length; i++) {
                fused.merge(text[i].doc, 1.0 / (61 + i), Double::sum);
            }
            for (int i = 0; i < knn.length; i++) {
                fused.merge(knn[i].doc, 1.0 / (61 + i), Double::sum);
            }
            return fused.entrySet().stream().sorted((a, b) -> Double.compare(b.getValue(), a.getValue()))
                        .limit(10).map(Map.Entry::getKey).toList();
        }

        @Override
        public void close() throws IOException {
            searcher.getIndexReader().close();
            writer.close();
        }
    }

    private MemoryBench() {}
}
