package ai.sonia.memory.domain;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;


/**
 * Fuses the BM25 and vector rankings with weighted reciprocal rank fusion, then weights by recency/access
 * decay. The fused score is normalized so that first place in both lists is 1.0.
 */
final class HybridRanker {

    /** A ranked memory (its row id) with how it scored. */
    record Hit(long id, double score, int bm25Rank, int vectorRank, double decay) {}

    private final int rrfK;
    private final double bm25Weight;
    private final double halfLifeMs;
    private final double decayFloor;

    HybridRanker(int rrfK, double bm25Weight, double halfLifeMs, double decayFloor) {
        this.rrfK = rrfK;
        this.bm25Weight = bm25Weight;
        this.halfLifeMs = halfLifeMs;
        this.decayFloor = decayFloor;
    }

    /**
     * Ranks the union of both lists; {@code references} holds every eligible id of either list with the time
     * its decay counts from ({@link MemoryStore.Row#referenceMs()}).
     */
    List<Hit> rank(List<Long> bm25, List<Long> vectors, Map<Long, Long> references, long nowMs) {
        final Map<Long, int[]> ranks = new HashMap<>();
        addRanks(ranks, bm25, 0, references);
        addRanks(ranks, vectors, 1, references);
        final double best = (1 + bm25Weight) / (rrfK + 1);
        final List<Hit> hits = new ArrayList<>(ranks.size());
        ranks.forEach((id, rank) -> {
            final double fused = (bm25Weight * reciprocal(rank[0]) + reciprocal(rank[1])) / best;
            final double decay = decay(references.get(id), nowMs);
            hits.add(new Hit(id, fused * decay, rank[0], rank[1], decay));
        });
        hits.sort((a, b) -> Double.compare(b.score(), a.score()));
        return hits;
    }

    /** {@code floor + (1 - floor) * 2^(-age / halfLife)}: 1 when just stored or used, never below the floor. */
    double decay(long referenceMs, long nowMs) {
        final double age = Math.max(0, nowMs - referenceMs);
        return decayFloor + (1 - decayFloor) * Math.pow(2, -age / halfLifeMs);
    }

    private double reciprocal(int rank) {
        return rank == 0 ? 0 : 1.0 / (rrfK + rank);
    }

    private static void addRanks(Map<Long, int[]> ranks, List<Long> ids, int signal, Map<Long, Long> eligible) {
        int rank = 0;
        for (long id : ids) {
            if (eligible.containsKey(id)) {
                ranks.computeIfAbsent(id, k -> new int[2])[signal] = ++rank;
            }
        }
    }
}
