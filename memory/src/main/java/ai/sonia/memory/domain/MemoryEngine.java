package ai.sonia.memory.domain;

import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.google.protobuf.util.Timestamps;

import ai.sonia.common.v1.Scope;
import ai.sonia.memory.MemoryConfig;
import ai.sonia.memory.domain.HybridRanker.Hit;
import ai.sonia.memory.domain.TenantVectors.Scored;
import ai.sonia.memory.store.AuditLog;
import ai.sonia.memory.store.AuditLog.Actor;
import ai.sonia.memory.store.Database;
import ai.sonia.memory.store.LedgerView;
import ai.sonia.memory.store.MemoryFilter;
import ai.sonia.memory.store.MemoryLedger;
import ai.sonia.memory.store.MemoryLedger.Forgotten;
import ai.sonia.memory.store.MemoryLedger.NewMemory;
import ai.sonia.memory.store.MemoryLedger.Stored;
import ai.sonia.memory.store.MemoryRows;
import ai.sonia.memory.store.MemoryRows.Row;
import ai.sonia.memory.store.SearchQueries;
import ai.sonia.memory.store.WriteQueue;
import ai.sonia.memory.v1.ForgetMemoryRequest;
import ai.sonia.memory.v1.ForgetMemoryResponse;
import ai.sonia.memory.v1.InvalidateMemoryRequest;
import ai.sonia.memory.v1.ListAuditRecordsRequest;
import ai.sonia.memory.v1.ListAuditRecordsResponse;
import ai.sonia.memory.v1.ListMemoriesRequest;
import ai.sonia.memory.v1.ListMemoriesResponse;
import ai.sonia.memory.v1.Memory;
import ai.sonia.memory.v1.MemoryKind;
import ai.sonia.memory.v1.MemoryStats;
import ai.sonia.memory.v1.SearchHit;
import ai.sonia.memory.v1.SearchMemoriesRequest;
import ai.sonia.memory.v1.SearchMemoriesResponse;
import ai.sonia.memory.v1.StoreMemoryRequest;
import ai.sonia.memory.v1.StoreMemoryResponse;

/**
 * The memory engine: idempotent stores with supersede, invalidate, TTL and forget over the SQLite ledger,
 * and hybrid search (BM25 and vectors fused by reciprocal rank, weighted by decay). Every write goes through
 * the one writer and leaves an audit record in the same transaction.
 */
public final class MemoryEngine implements AutoCloseable {

    private static final Logger logger = LoggerFactory.getLogger(MemoryEngine.class);
    private static final Pattern WORD = Pattern.compile("[\\p{L}\\p{N}]+");
    private static final int MAX_QUERY_TERMS = 32;
    private static final int MAX_QUERY_CHARS = 4_096;
    private static final int DEFAULT_PAGE = 50;
    private static final int MAX_PAGE = 500;
    private static final Actor SWEEPER = new Actor("system:ttl-sweeper", "");

    private final MemoryConfig config;
    private final Database database;
    private final WriteQueue writes;
    private final Embedder embedder;
    private final VectorIndex index;
    private final HybridRanker ranker;
    private final AccessTracker accesses = new AccessTracker();
    private final Clock clock;
    private final ScheduledExecutorService housekeeping;

    public MemoryEngine(MemoryConfig config, Database database, Embedder embedder, int dims, Clock clock) {
        this.config = config;
        this.database = database;
        this.embedder = embedder;
        this.clock = clock;
        writes = new WriteQueue(database);
        index = new VectorIndex(dims, config.approximateAbove());
        ranker = new HybridRanker(config.rrfK(), config.bm25Weight(), config.halfLife().toMillis(),
                                  config.decayFloor());
        housekeeping = Executors.newSingleThreadScheduledExecutor(r -> {
            final Thread thread = new Thread(r, "memory-housekeeping");
            thread.setDaemon(true);
            return thread;
        });
        housekeeping.execute(this::loadIndex);
        housekeeping.scheduleWithFixedDelay(this::sweep, config.sweepInterval().toMillis(),
                                            config.sweepInterval().toMillis(), TimeUnit.MILLISECONDS);
        housekeeping.scheduleWithFixedDelay(this::flushAccesses, config.accessFlushInterval().toMillis(),
                                            config.accessFlushInterval().toMillis(), TimeUnit.MILLISECONDS);
    }

    Database database() {
        return database;
    }

    WriteQueue writes() {
        return writes;
    }

    VectorIndex index() {
        return index;
    }

    /** Why searches cannot be answered yet (for {@code /readyz}), or null when they can. */
    public String indexProblem() {
        return index.problem();
    }

    long nowMs() {
        return clock.millis();
    }

    /** Stores a memory, idempotently within its scope by content hash. */
    public StoreMemoryResponse store(StoreMemoryRequest request, Access access) {
        RequestChecks.noUnknownFields("", request);
        final Memory checked = checkedMemory(request);
        RequestChecks.name("supersedes", request.getSupersedes(), false);
        final Memory memory = checked.toBuilder()
                                     .setScope(access.storeScope(checked.getScope(), request.getTenantWide()))
                                     .build();
        final long nowMs = nowMs();
        if (!request.getSupersedes().isEmpty()) {
            // Who owns a memory never changes, so checking before the write is as good as inside it.
            access.checkWritable(row(request.getSupersedes(), nowMs).memory());
        }
        final Long expireMs = expireMs(request, nowMs);
        final String hash = ContentHash.of(memory.getText());
        if (request.getSupersedes().isEmpty()) {
            final Optional<Row> existing = database.read(
                    c -> MemoryRows.activeByHash(c, memory.getScope(), hash, nowMs));
            if (existing.isPresent()) {
                return StoreMemoryResponse.newBuilder().setMemory(existing.get().memory()).setCreated(false).build();
            }
        }
        final float[] vector = embedder.embed(memory.getText());
        final NewMemory fresh = new NewMemory(memory, hash, vector, embedder.model(), expireMs,
                                              request.getSupersedes());
        final Stored stored = writes.write(c -> MemoryLedger.store(c, fresh, access.actor(), nowMs));
        if (stored.created()) {
            index.add(memory.getScope().getTenant(), stored.row().id(), memory.getText(), vector);
        }
        return StoreMemoryResponse.newBuilder().setMemory(stored.row().memory()).setCreated(stored.created())
                                  .build();
    }

    private Memory checkedMemory(StoreMemoryRequest request) {
        if (!request.hasMemory()) {
            throw MemoryException.invalid("memory", "required");
        }
        final Memory memory = request.getMemory();
        RequestChecks.noUnknownFields("memory", memory);
        RequestChecks.text("memory.text", memory.getText(), config.maxTextChars());
        RequestChecks.scope("memory.scope", memory.getScope());
        RequestChecks.kind("memory.kind", memory.getKind());
        RequestChecks.metadata("memory.metadata", memory.getMetadataMap());
        RequestChecks.label("memory.source", memory.getSource());
        RequestChecks.label("memory.trust", memory.getTrust());
        return Memory.newBuilder()
                     .setText(memory.getText())
                     .setScope(memory.getScope())
                     .setKind(memory.getKind() == MemoryKind.MEMORY_KIND_UNSPECIFIED ? MemoryKind.MEMORY_KIND_NOTE
                                                                                     : memory.getKind())
                     .putAllMetadata(memory.getMetadataMap())
                     .setSource(memory.getSource())
                     .setTrust(memory.getTrust())
                     .build();
    }

    /** The longest time to live: 100 years (beyond it, milliseconds from now would overflow sooner or later). */
    private static final long MAX_TTL_SECONDS = 100L * 366 * 24 * 3600;

    private static Long expireMs(StoreMemoryRequest request, long nowMs) {
        if (request.getTtlSeconds() < 0 || request.getTtlSeconds() > MAX_TTL_SECONDS) {
            throw MemoryException.invalid("ttl_seconds",
                                          request.getTtlSeconds() + " (expected: 0.." + MAX_TTL_SECONDS + ')');
        }
        if (request.getTtlSeconds() > 0) {
            return nowMs + Math.multiplyExact(request.getTtlSeconds(), 1000L);
        }
        if (request.getMemory().hasExpireTime()) {
            if (!Timestamps.isValid(request.getMemory().getExpireTime())) {
                throw MemoryException.invalid("memory.expire_time", "not a valid timestamp");
            }
            final long expire = Timestamps.toMillis(request.getMemory().getExpireTime());
            if (expire <= nowMs) {
                throw MemoryException.invalid("memory.expire_time", "must be in the future");
            }
            return expire;
        }
        return null;
    }

    /** The memory with this name, if the caller may see it; counts as an access. */
    public Memory get(String name, Access access) {
        RequestChecks.name("name", name, true);
        final long nowMs = nowMs();
        final Row row = row(name, nowMs);
        access.checkReadable(row.memory());
        accesses.record(row.id(), nowMs);
        return row.memory();
    }

    private Row row(String name, long nowMs) {
        return database.read(c -> MemoryRows.byName(c, name, nowMs)).orElseThrow(() -> MemoryException.notFound(name));
    }

    /** Hybrid search inside one tenant. */
    public SearchMemoriesResponse search(SearchMemoriesRequest request, Access access) {
        RequestChecks.noUnknownFields("", request);
        if (request.getQuery().isBlank()) {
            throw MemoryException.invalid("query", "required and not blank");
        }
        if (request.getQuery().length() > MAX_QUERY_CHARS) {
            throw MemoryException.invalid("query", "at most " + MAX_QUERY_CHARS + " characters");
        }
        RequestChecks.scope("scope", request.getScope());
        RequestChecks.kinds("kinds", request.getKindsList());
        RequestChecks.metadata("metadata", request.getMetadataMap());
        if (request.getTopK() < 0 || request.getTopK() > config.maxTopK()) {
            throw MemoryException.invalid("top_k", request.getTopK() + " (expected: 0.." + config.maxTopK() + ')');
        }
        if (!(request.getMinScore() >= 0 && request.getMinScore() <= 1)) {
            throw MemoryException.invalid("min_score", request.getMinScore() + " (expected: 0..1)");
        }
        final Scope scope = access.readScope(request.getScope(), request.getAllUsers());
        final int topK = request.getTopK() == 0 ? config.defaultTopK() : request.getTopK();
        final long nowMs = nowMs();
        final MemoryFilter filter = new MemoryFilter(
                scope.getTenant(), scope.getUser(), scope.getSession(),
                request.getKindsValueList(), new TreeMap<>(request.getMetadataMap()), request.getIncludeInactive(),
                nowMs);
        final List<Hit> hits = hybrid(request.getQuery(), filter, Math.max(config.candidates(), topK));
        final SearchMemoriesResponse.Builder response = SearchMemoriesResponse.newBuilder();
        for (Hit hit : hits) {
            if (response.getHitsCount() == topK || hit.score() < request.getMinScore()) {
                break;
            }
            accesses.record(hit.row().id(), nowMs);
            response.addHits(SearchHit.newBuilder().setMemory(hit.row().memory()).setScore(hit.score())
                                      .setBm25Rank(hit.bm25Rank()).setVectorRank(hit.vectorRank())
                                      .setDecay(hit.decay()));
        }
        return response.build();
    }

    List<Hit> hybrid(String query, MemoryFilter filter, int depth) {
        final Map<Long, Row> rows = new HashMap<>();
        final List<Long> bm25 = bm25(query, filter, depth, rows);
        final List<Long> vectors = vectors(embedder.embedQuery(query), filter, depth, rows);
        return ranker.rank(bm25, vectors, rows, filter.nowMs());
    }

    List<Long> bm25(String query, MemoryFilter filter, int depth, Map<Long, Row> rows) {
        final List<String> words = queryWords(query);
        if (words.isEmpty()) {
            return List.of();
        }
        if (index.graphReady()) {
            return eligibleRanked(k -> index.bm25(filter.tenant(), words, k), filter, depth, rows);
        }
        final String fts = ftsQuery(words);
        final List<Long> ids = database.read(c -> SearchQueries.bm25(c, fts, filter, depth));
        final List<Long> missing = ids.stream().filter(id -> !rows.containsKey(id)).toList();
        rows.putAll(database.read(c -> MemoryRows.eligible(c, filter, missing)));
        return ids;
    }

    /** The {@code depth} nearest eligible memories by vector. */
    List<Long> vectors(float[] query, MemoryFilter filter, int depth, Map<Long, Row> rows) {
        return eligibleRanked(k -> index.nearest(filter.tenant(), query, k), filter, depth, rows);
    }

    /**
     * The {@code depth} best eligible memories of a ranking: reads the ranking's top, keeps those that pass
     * the filter, and reads deeper while a selective filter leaves too few.
     */
    private List<Long> eligibleRanked(IntFunction<List<Scored>> ranking, MemoryFilter filter, int depth,
                                      Map<Long, Row> rows) {
        final int total = index.size(filter.tenant());
        int want = depth;
        while (true) {
            final List<Scored> nearest = ranking.apply(want);
            final List<Long> ids = nearest.stream().map(Scored::id).toList();
            final Map<Long, Row> eligible = database.read(c -> MemoryRows.eligible(c, filter, ids));
            if (eligible.size() >= depth || nearest.size() < want || want >= total) {
                rows.putAll(eligible);
                return ids.stream().filter(eligible::containsKey).limit(depth).toList();
            }
            want = (int) Math.min((long) want * 4, total);
        }
    }

    /**
     * The query's words, lower-cased. Stop words are left out unless the query has nothing else: they match
     * most memories, which costs time and adds noise.
     */
    static List<String> queryWords(String query) {
        final Set<String> words = new LinkedHashSet<>();
        final Set<String> stopWords = new LinkedHashSet<>();
        final Matcher matcher = WORD.matcher(query.toLowerCase(Locale.ROOT));
        while (matcher.find() && words.size() < MAX_QUERY_TERMS) {
            final String word = matcher.group();
            (StopWords.contains(word) ? stopWords : words).add(word);
        }
        return List.copyOf(words.isEmpty() ? stopWords : words);
    }

    /** The words as an FTS5 query: each quoted, so FTS5 syntax in user text is inert, OR-ed. */
    static String ftsQuery(List<String> words) {
        return String.join(" OR ", words.stream().map(w -> '"' + w + '"').toList());
    }

    /** A page of a scope's memories, newest first. */
    public ListMemoriesResponse list(ListMemoriesRequest request, Access access) {
        RequestChecks.noUnknownFields("", request);
        RequestChecks.scope("scope", request.getScope());
        final int size = RequestChecks.pageSize("page_size", request.getPageSize(), DEFAULT_PAGE, MAX_PAGE);
        final Scope scope = access.readScope(request.getScope(), request.getAllUsers());
        final String query = scope.toString() + request.getIncludeInactive();
        final long before = PageTokens.parse("page_token", request.getPageToken(), query);
        final long nowMs = nowMs();
        final MemoryFilter filter = new MemoryFilter(
                scope.getTenant(), scope.getUser(), scope.getSession(),
                List.of(), new TreeMap<>(), request.getIncludeInactive(), nowMs);
        final List<Row> rows = database.read(c -> MemoryRows.list(c, filter, before, size + 1));
        final ListMemoriesResponse.Builder response = ListMemoriesResponse.newBuilder();
        rows.stream().limit(size).forEach(row -> response.addMemories(row.memory()));
        if (rows.size() > size) {
            response.setNextPageToken(PageTokens.next(query, rows.get(size - 1).id()));
        }
        return response.build();
    }

    /** Closes a memory's validity without a successor. */
    public Memory invalidate(InvalidateMemoryRequest request, Access access) {
        RequestChecks.noUnknownFields("", request);
        RequestChecks.name("name", request.getName(), true);
        RequestChecks.label("reason", request.getReason());
        final long nowMs = nowMs();
        access.checkWritable(row(request.getName(), nowMs).memory());
        return writes.write(c -> MemoryLedger.invalidate(c, request.getName(), request.getReason(),
                                                         access.actor(), nowMs))
                     .memory();
    }

    /** Deletes a memory for good; the audit log keeps that it happened. */
    public ForgetMemoryResponse forget(ForgetMemoryRequest request, Access access) {
        RequestChecks.noUnknownFields("", request);
        RequestChecks.name("name", request.getName(), true);
        RequestChecks.label("reason", request.getReason());
        final long nowMs = nowMs();
        access.checkWritable(row(request.getName(), nowMs).memory());
        final Forgotten forgotten = writes.write(
                c -> MemoryLedger.forget(c, request.getName(), request.getReason(), access.actor(), nowMs));
        index.remove(forgotten.tenant(), forgotten.id());
        return ForgetMemoryResponse.newBuilder().setName(request.getName())
                                   .setAuditRecord(forgotten.auditRecord()).build();
    }

    /** Counts and sizes of what the caller sees. */
    public MemoryStats stats(String tenant, Access access) {
        if (!tenant.isEmpty()) {
            RequestChecks.scopeId("tenant", tenant);
        }
        final LedgerView view = access.view(tenant);
        final long nowMs = nowMs();
        final MemoryStats.Builder stats = database.read(c -> SearchQueries.stats(c, view, nowMs)).toBuilder();
        if (!access.seesWholeFile()) {
            stats.clearDatabaseBytes();
        }
        return stats.setEmbeddingModel(embedder.model()).setApproximateIndexReady(index.graphReady()).build();
    }

    /** A page of the audit log, newest first. */
    public ListAuditRecordsResponse audit(ListAuditRecordsRequest request, Access access) {
        RequestChecks.noUnknownFields("", request);
        RequestChecks.name("memory", request.getMemory(), false);
        final int size = RequestChecks.pageSize("page_size", request.getPageSize(), DEFAULT_PAGE, MAX_PAGE);
        final String query = "audit:" + request.getMemory();
        final long before = PageTokens.parse("page_token", request.getPageToken(), query);
        final LedgerView view = access.view("");
        final var records = database.read(c -> AuditLog.list(c, view, request.getMemory(), before, size + 1));
        final ListAuditRecordsResponse.Builder response = ListAuditRecordsResponse.newBuilder();
        records.stream().limit(size).forEach(response::addAuditRecords);
        if (records.size() > size) {
            final String last = records.get(size - 1).getName();
            response.setNextPageToken(PageTokens.next(query, Long.parseLong(last.substring(last.indexOf('/') + 1))));
        }
        return response.build();
    }

    /** Marks memories past their TTL as expired, with audit records. */
    public int sweep() {
        try {
            final long nowMs = nowMs();
            return writes.write(c -> MemoryLedger.expireDue(c, SWEEPER, nowMs, 1_000)).size();
        } catch (RuntimeException e) {
            logger.warn("TTL sweep failed", e);
            return 0;
        }
    }

    private void flushAccesses() {
        final Map<Long, long[]> drained = accesses.drain();
        if (drained.isEmpty()) {
            return;
        }
        try {
            writes.write(c -> {
                MemoryLedger.touch(c, drained);
                return null;
            });
        } catch (RuntimeException e) {
            logger.warn("Writing {} access times failed", drained.size(), e);
        }
    }

    void loadIndex() {
        final long start = System.nanoTime();
        try {
            final int[] count = new int[1];
            database.read(c -> {
                SearchQueries.vectors(c, (id, tenant, vector) -> {
                    index.addExact(tenant, id, vector);
                    count[0]++;
                });
                return null;
            });
            index.markLoaded(null);
            final Thread graph = new Thread(this::buildLuceneIndex, "memory-lucene-build");
            graph.setDaemon(true);
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
            database.read(c -> {
                SearchQueries.documents(c, (id, tenant, text, vector) -> {
                    index.feed(tenant, id, text, vector);
                    count[0]++;
                });
                return null;
            });
            index.finishFeeding();
            logger.atInfo().addKeyValue("memories", count[0])
                  .addKeyValue("build_ms", (System.nanoTime() - start) / 1_000_000).log("Lucene index built");
        } catch (RuntimeException e) {
            logger.error("Building the Lucene index failed; BM25 stays on FTS5 and vectors on exact scans", e);
        }
    }

    @Override
    public void close() {
        housekeeping.shutdown();
        try {
            housekeeping.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        flushAccesses();
        writes.close();
        try {
            index.close();
        } catch (java.io.IOException e) {
            logger.warn("Closing the vector index failed", e);
        }
    }
}
