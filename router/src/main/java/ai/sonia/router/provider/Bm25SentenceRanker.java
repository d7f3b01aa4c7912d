package ai.sonia.router.provider;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import ai.sonia.router.v1.ContextPassage;

/**
 * Ranks the sentences of context passages against a question with Okapi BM25 (k1 = 1.2, b = 0.75), the
 * sentences being the documents. Deterministic: ties go to the passage recalled with the higher score,
 * then to the earlier sentence.
 */
final class Bm25SentenceRanker {

    /** One sentence of a passage and its BM25 score against the question. */
    record Ranked(String sentence, String source, double score) {}

    private static final double K1 = 1.2;
    private static final double B = 0.75;
    private static final Pattern SENTENCE_END = Pattern.compile("(?<=[.!?])\\s+|\\n+");
    private static final Pattern NON_WORD = Pattern.compile("[^\\p{L}\\p{N}]+");
    private static final Set<String> STOPWORDS = Set.of(
            "a", "an", "and", "are", "as", "at", "be", "but", "by", "did", "do", "does", "for", "from", "had",
            "has", "have", "he", "her", "his", "how", "i", "if", "in", "is", "it", "its", "me", "my", "of", "on",
            "or", "our", "she", "so", "that", "the", "their", "them", "then", "there", "they", "this", "to",
            "was", "we", "were", "what", "when", "where", "which", "who", "why", "will", "with", "you", "your");

    private record Sentence(String text, String source, double recallScore, int order, Map<String, Integer> tf,
                            int length) {}

    /** The sentences sharing at least one term with the question, best first, at most {@code limit}. */
    List<Ranked> rank(String question, List<ContextPassage> passages, int limit) {
        final Set<String> queryTerms = new HashSet<>(terms(question));
        final List<Sentence> sentences = sentences(passages);
        if (queryTerms.isEmpty() || sentences.isEmpty()) {
            return List.of();
        }
        final Map<String, Integer> df = new HashMap<>();
        long totalLength = 0;
        for (Sentence s : sentences) {
            s.tf().keySet().forEach(t -> df.merge(t, 1, Integer::sum));
            totalLength += s.length();
        }
        final double avgLength = (double) totalLength / sentences.size();
        final int n = sentences.size();
        final List<Sentence> scoredSentences = new ArrayList<>();
        final Map<Sentence, Double> scores = new HashMap<>();
        for (Sentence s : sentences) {
            double score = 0;
            for (String term : queryTerms) {
                final int tf = s.tf().getOrDefault(term, 0);
                if (tf == 0) {
                    continue;
                }
                final int docFreq = df.get(term);
                final double idf = Math.log(1 + (n - docFreq + 0.5) / (docFreq + 0.5));
                score += idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * s.length() / avgLength));
            }
            if (score > 0) {
                scores.put(s, score);
                scoredSentences.add(s);
            }
        }
        scoredSentences.sort(Comparator.<Sentence>comparingDouble(scores::get).reversed()
                                       .thenComparing(Comparator.comparingDouble(Sentence::recallScore).reversed())
                                       .thenComparingInt(Sentence::order));
        return scoredSentences.stream().limit(limit)
                              .map(s -> new Ranked(s.text(), s.source(), scores.get(s))).toList();
    }

    /** Lower-cased word terms without stopwords, with a light plural stemming. */
    static List<String> terms(String text) {
        final List<String> terms = new ArrayList<>();
        for (String raw : NON_WORD.split(text.toLowerCase(Locale.ROOT))) {
            if (raw.length() < 2 || STOPWORDS.contains(raw)) {
                continue;
            }
            terms.add(raw.length() > 3 && raw.endsWith("s") && !raw.endsWith("ss") ? raw.substring(0, raw.length() - 1)
                                                                                    : raw);
        }
        return terms;
    }

    private static List<Sentence> sentences(List<ContextPassage> passages) {
        final List<Sentence> sentences = new ArrayList<>();
        for (ContextPassage passage : passages) {
            for (String text : SENTENCE_END.split(passage.getText())) {
                final String trimmed = text.strip();
                final List<String> terms = terms(trimmed);
                if (terms.isEmpty()) {
                    continue;
                }
                final Map<String, Integer> tf = new HashMap<>();
                terms.forEach(t -> tf.merge(t, 1, Integer::sum));
                sentences.add(new Sentence(trimmed, passage.getSource(), passage.getScore(), sentences.size(), tf,
                                           terms.size()));
            }
        }
        return sentences;
    }
}
