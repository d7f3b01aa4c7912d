package ai.sonia.pipecat.voice;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * A small trigram language model of a session's context (its recent turns, the assistant's replies that carry
 * the user's memories), written in the ARPA format pocketsphinx reads with {@code -lm}: interpolated absolute
 * discounting (D = 0.5) of trigrams and bigrams down to the context's word frequencies, stored as back-off
 * probabilities and weights, the usual way to write an interpolated model as ARPA.
 */
public final class ContextLanguageModel {

    static final String START = "<s>";
    static final String END = "</s>";
    private static final double DISCOUNT = 0.5;

    private ContextLanguageModel() {}

    /** Lower-case words of {@code text} that {@code known} accepts (the dictionary's); the rest are dropped. */
    static List<String> words(String text, Predicate<String> known) {
        final List<String> words = new ArrayList<>();
        for (String word : text.toLowerCase(Locale.ROOT).replaceAll("[^a-z' ]", " ").strip().split("\\s+")) {
            final String bare = word.replaceAll("^'+|'+$", "");
            if (!bare.isEmpty() && known.test(bare)) {
                words.add(bare);
            }
        }
        return words;
    }

    /** The ARPA text of a trigram model of {@code sentences}; words {@code known} rejects are left out. */
    public static String arpa(List<String> sentences, Predicate<String> known) {
        final List<Map<List<String>, Integer>> counts = List.of(new HashMap<>(), new HashMap<>(), new HashMap<>());
        for (String sentence : sentences) {
            final List<String> tokens = new ArrayList<>();
            tokens.add(START);
            tokens.addAll(words(sentence, known));
            if (tokens.size() == 1) {
                continue;
            }
            tokens.add(END);
            for (int n = 1; n <= 3; n++) {
                for (int i = 0; i + n <= tokens.size(); i++) {
                    final List<String> gram = List.copyOf(tokens.subList(i, i + n));
                    if (n == 1 && gram.get(0).equals(START)) {
                        continue; // <s> is never predicted
                    }
                    counts.get(n - 1).merge(gram, 1, Integer::sum);
                }
            }
        }
        // Unigrams: relative frequencies (the vocabulary is the context's words and </s>).
        final Map<List<String>, Integer> unigramCounts = counts.get(0);
        final int total = unigramCounts.values().stream().mapToInt(Integer::intValue).sum();
        final Map<List<String>, Double> p1 = new TreeMap<>(ContextLanguageModel::compare);
        unigramCounts.forEach((gram, c) -> p1.put(gram, (double) c / total));
        final Map<List<String>, Double> p2 = higher(counts.get(1), counts, p1);
        final Map<List<String>, Double> p3 = higher(counts.get(2), counts, p2);
        final Map<List<String>, Double> bow1 = backoffs(p2, p1);
        final Map<List<String>, Double> bow2 = backoffs(p3, p2);

        final StringBuilder arpa = new StringBuilder("\\data\\\n");
        arpa.append("ngram 1=").append(p1.size() + 1).append('\n');
        arpa.append("ngram 2=").append(p2.size()).append('\n');
        arpa.append("ngram 3=").append(p3.size()).append("\n\n\\1-grams:\n");
        // <s> is only a history: no probability of its own, but a back-off weight.
        arpa.append(String.format(Locale.ROOT, "-99.0000 %s %.4f%n", START,
                                  Math.log10(bow1.getOrDefault(List.of(START), 1.0))));
        p1.forEach((gram, p) -> line(arpa, p, gram, bow1.getOrDefault(gram, 1.0)));
        arpa.append("\n\\2-grams:\n");
        p2.forEach((gram, p) -> line(arpa, p, gram, bow2.getOrDefault(gram, 1.0)));
        arpa.append("\n\\3-grams:\n");
        p3.forEach((gram, p) -> line(arpa, p, gram, null));
        return arpa.append("\n\\end\\\n").toString();
    }

    // P(w | h) = (c(h w) - D) / c(h) + D * followers(h) / c(h) * P(w | shorter h), for the n-grams seen.
    private static Map<List<String>, Double> higher(Map<List<String>, Integer> grams,
                                                    List<Map<List<String>, Integer>> counts,
                                                    Map<List<String>, Double> lower) {
        final Map<List<String>, Integer> historyCounts = new HashMap<>();
        final Map<List<String>, Integer> followers = new HashMap<>();
        grams.forEach((gram, c) -> {
            final List<String> history = gram.subList(0, gram.size() - 1);
            historyCounts.merge(history, c, Integer::sum);
            followers.merge(history, 1, Integer::sum);
        });
        final Map<List<String>, Double> p = new TreeMap<>(ContextLanguageModel::compare);
        grams.forEach((gram, c) -> {
            final List<String> history = gram.subList(0, gram.size() - 1);
            final double h = historyCounts.get(history);
            final double shorter = lowerProbability(gram.subList(1, gram.size()), lower);
            p.put(gram, (c - DISCOUNT) / h + DISCOUNT * followers.get(history) / h * shorter);
        });
        return p;
    }

    private static double lowerProbability(List<String> gram, Map<List<String>, Double> lower) {
        final Double p = lower.get(gram);
        return p != null ? p : 0;
    }

    // bow(h) = (1 - sum of P(w | h) over w seen after h) / (1 - sum of P(w | shorter h) over the same w).
    private static Map<List<String>, Double> backoffs(Map<List<String>, Double> higher,
                                                      Map<List<String>, Double> lower) {
        final Map<List<String>, double[]> sums = new LinkedHashMap<>();
        higher.forEach((gram, p) -> {
            final double[] sum = sums.computeIfAbsent(gram.subList(0, gram.size() - 1), h -> new double[2]);
            sum[0] += p;
            sum[1] += lowerProbability(gram.subList(1, gram.size()), lower);
        });
        final Map<List<String>, Double> bow = new HashMap<>();
        sums.forEach((history, sum) -> bow.put(history, Math.max(1e-9, 1 - sum[0]) / Math.max(1e-9, 1 - sum[1])));
        return bow;
    }

    private static void line(StringBuilder arpa, double p, List<String> gram, Double bow) {
        arpa.append(String.format(Locale.ROOT, "%.4f %s", Math.log10(p), String.join(" ", gram)));
        if (bow != null) {
            arpa.append(String.format(Locale.ROOT, " %.4f", Math.log10(bow)));
        }
        arpa.append('\n');
    }

    private static int compare(List<String> a, List<String> b) {
        return String.join(" ", a).compareTo(String.join(" ", b));
    }
}
