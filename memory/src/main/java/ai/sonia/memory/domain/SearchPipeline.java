package ai.sonia.memory.domain;

import java.time.Clock;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.IntFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import ai.sonia.common.v1.Scope;
import ai.sonia.memory.MemoryConfig;
import ai.sonia.memory.domain.HybridRanker.Hit;
import ai.sonia.memory.domain.MemoryIndex.Scored;
import ai.sonia.memory.domain.MemoryStore.Row;
import ai.sonia.memory.v1.Passage;
import ai.sonia.memory.v1.RetrievePassagesRequest;
import ai.sonia.memory.v1.RetrievePassagesResponse;
import ai.sonia.memory.v1.SearchHit;
import ai.sonia.memory.v1.SearchMemoriesRequest;
import ai.sonia.memory.v1.SearchMemoriesResponse;
import ai.sonia.runtime.errors.DomainException;

/**
 * Hybrid search inside one tenant: BM25 (Lucene's text index) and vectors, each read
 * deep enough past the filter, fused by reciprocal rank and weighted by decay ({@link HybridRanker}).
 */
public final class SearchPipeline {

    private static final Pattern WORD = Pattern.compile("[\\p{L}\\p{N}]+");
    private static final int MAX_QUERY_TERMS = 32;
    private static final int MAX_QUERY_CHARS = 4_096;

    private final MemoryConfig config;
    private final MemoryStore store;
    private final Embedder embedder;
    private final MemoryIndex index;
    private final HybridRanker ranker;
    private final AccessTracker accesses;
    private final Clock clock;

    public SearchPipeline(MemoryConfig config, MemoryStore store, Embedder embedder, MemoryIndex index,
                          AccessTracker accesses, Clock clock) {
        this.config = config;
        this.store = store;
        this.embedder = embedder;
        this.index = index;
        this.accesses = accesses;
        this.clock = clock;
        ranker = new HybridRanker(config.rrfK(), config.bm25Weight(), config.halfLife().toMillis(),
                                  config.decayFloor());
    }

    /** Hybrid search inside one tenant. */
    public SearchMemoriesResponse search(SearchMemoriesRequest request, Access access) {
        RequestChecks.noUnknownFields("", request);
        if (request.getQuery().isBlank()) {
            throw DomainException.invalidArgument("query", "required and not blank");
        }
        if (request.getQuery().length() > MAX_QUERY_CHARS) {
            throw DomainException.invalidArgument("query", "at most " + MAX_QUERY_CHARS + " characters");
        }
        RequestChecks.scope("scope", request.getScope());
        RequestChecks.kinds("kinds", request.getKindsList());
        RequestChecks.metadata("metadata", request.getMetadataMap());
        if (request.getTopK() < 0 || request.getTopK() > config.maxTopK()) {
            throw DomainException.invalidArgument("top_k", request.getTopK() + " (expected: 0.." + config.maxTopK() + ')');
        }
        if (!(request.getMinScore() >= 0 && request.getMinScore() <= 1)) {
            throw DomainException.invalidArgument("min_score", request.getMinScore() + " (expected: 0..1)");
        }
        final Scope scope = access.readScope(request.getScope(), request.getAllUsers());
        final int topK = request.getTopK() == 0 ? config.defaultTopK() : request.getTopK();
        final long nowMs = clock.millis();
        final MemoryFilter filter = new MemoryFilter(
                scope.getTenant(), scope.getUser(), scope.getSession(),
                request.getKindsValueList(), new TreeMap<>(request.getMetadataMap()), request.getIncludeInactive(),
                nowMs);
        final List<Hit> hits = hybrid(request.getQuery(), filter, Math.max(config.candidates(), topK));
        final List<Hit> top = hits.stream().takeWhile(hit -> hit.score() >= request.getMinScore()).limit(topK)
                                  .toList();
        // Only the hits returned are read whole; one forgotten since it was ranked is left out.
        final Map<Long, Row> rows = store.eligible(filter, top.stream().map(Hit::id).toList());
        final SearchMemoriesResponse.Builder response = SearchMemoriesResponse.newBuilder();
        for (Hit hit : top) {
            final Row row = rows.get(hit.id());
            if (row == null) {
                continue;
            }
            accesses.record(hit.id(), nowMs);
            response.addHits(SearchHit.newBuilder().setMemory(row.memory()).setScore(hit.score())
                                      .setBm25Rank(hit.bm25Rank()).setVectorRank(hit.vectorRank())
                                      .setDecay(hit.decay()));
        }
        return response.build();
    }

    /** How many passages a retrieval returns when the request says 0. */
    static final int DEFAULT_PASSAGES = 5;

    /** The search's hits as passages for a prompt, with the block of text that cites them. */
    public RetrievePassagesResponse retrieve(RetrievePassagesRequest request, Access access) {
        RequestChecks.noUnknownFields("", request);
        final SearchMemoriesResponse found = search(
                SearchMemoriesRequest.newBuilder().setQuery(request.getQuery()).setScope(request.getScope())
                                     .setTopK(request.getTopK() == 0 ? DEFAULT_PASSAGES : request.getTopK())
                                     .setMinScore(request.getMinScore()).build(),
                access);
        final RetrievePassagesResponse.Builder response = RetrievePassagesResponse.newBuilder();
        final StringBuilder context = new StringBuilder();
        for (SearchHit hit : found.getHitsList()) {
            final Passage passage = Passage.newBuilder().setId(hit.getMemory().getName())
                                           .setText(hit.getMemory().getText()).setScore(hit.getScore())
                                           .setRank(response.getPassagesCount() + 1)
                                           .setKey(hit.getMemory().getMetadataOrDefault(MemoryEngine.KEY, ""))
                                           .setSource(hit.getMemory().getSource()).build();
            response.addPassages(passage);
            context.append(String.format(Locale.ROOT, "[%d] (%s, score %.2f) %s%n", passage.getRank(), passage.getId(),
                                         passage.getScore(), passage.getText().replaceAll("\\s+", " ").strip()));
        }
        return response.setContext(context.toString()).build();
    }

    List<Hit> hybrid(String query, MemoryFilter filter, int depth) {
        final Map<Long, Long> references = new HashMap<>();
        final List<Long> bm25 = bm25(query, filter, depth, references);
        final List<Long> vectors = vectors(embedder.embedQuery(query), filter, depth, references);
        return ranker.rank(bm25, vectors, references, filter.nowMs());
    }

    /** The {@code depth} best eligible memories by BM25; adds each one's reference time to {@code references}. */
    List<Long> bm25(String query, MemoryFilter filter, int depth, Map<Long, Long> references) {
        final List<String> words = queryWords(query);
        if (words.isEmpty()) {
            return List.of();
        }
        return eligibleRanked(k -> index.bm25(filter.tenant(), words, k), filter, depth, references);
    }

    /** The {@code depth} nearest eligible memories by vector. */
    List<Long> vectors(float[] query, MemoryFilter filter, int depth, Map<Long, Long> references) {
        return eligibleRanked(k -> index.nearest(filter.tenant(), query, k), filter, depth, references);
    }

    /**
     * The {@code depth} best eligible memories of a ranking: reads the ranking's top, keeps those that pass
     * the filter, and reads deeper while a selective filter leaves too few.
     */
    private List<Long> eligibleRanked(IntFunction<List<Scored>> ranking, MemoryFilter filter, int depth,
                                      Map<Long, Long> references) {
        int want = depth;
        // Counted only when a ranking must be read deeper (a round trip on a remote index).
        int total = -1;
        while (true) {
            final List<Scored> nearest = ranking.apply(want);
            final List<Long> ids = nearest.stream().map(Scored::id).toList();
            final Map<Long, Long> eligible = store.eligibleReferences(filter, ids);
            if (total < 0 && eligible.size() < depth && nearest.size() >= want) {
                total = index.size(filter.tenant());
            }
            if (eligible.size() >= depth || nearest.size() < want || want >= total) {
                references.putAll(eligible);
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
}
