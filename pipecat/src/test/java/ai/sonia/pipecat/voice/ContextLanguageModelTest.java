package ai.sonia.pipecat.voice;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;

/** The context model is a proper ARPA back-off model: every history's next-word probabilities sum to one. */
class ContextLanguageModelTest {

    private static final List<String> CONTEXT = List.of("My favourite colour is green.", "What is my favourite colour?",
                                                        "my sister lives in Lisbon", "Zyxq is not a word");

    @Test
    void everyHistorysNextWordProbabilitiesSumToOne() {
        final Set<String> dictionary = Set.of("my", "favourite", "colour", "is", "green", "what", "sister", "lives",
                                              "in", "lisbon", "not", "a", "word");
        final Map<String, double[]> grams = parse(ContextLanguageModel.arpa(CONTEXT, dictionary::contains));
        assertThat(grams).containsKeys("my favourite colour", "<s> what", "</s>").doesNotContainKey("zyxq");
        final List<String> vocabulary = grams.keySet().stream().filter(g -> !g.contains(" ") && !g.equals("<s>"))
                                             .toList();
        for (String history : List.of("<s>", "my", "<s> my", "my favourite", "green", "colour is", "lisbon")) {
            double sum = 0;
            for (String word : vocabulary) {
                sum += probability(grams, history, word);
            }
            assertThat(sum).as(history).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-3));
        }
    }

    // log10 probabilities and back-off weights by n-gram; P(w | h) by ARPA back-off.
    private static double probability(Map<String, double[]> grams, String history, String word) {
        final double[] seen = grams.get(history + " " + word);
        if (seen != null) {
            return Math.pow(10, seen[0]);
        }
        final double[] h = grams.get(history);
        final double backoff = h != null && h.length > 1 ? Math.pow(10, h[1]) : 1;
        final int space = history.indexOf(' ');
        return backoff * (space < 0 ? Math.pow(10, grams.get(word)[0])
                                    : probability(grams, history.substring(space + 1), word));
    }

    private static Map<String, double[]> parse(String arpa) {
        final Map<String, double[]> grams = new HashMap<>();
        int order = 0;
        for (String line : arpa.split("\n")) {
            if (line.matches("\\\\\\d-grams:")) {
                order = line.charAt(1) - '0';
                continue;
            }
            final String[] fields = line.trim().split("\\s+");
            if (order == 0 || fields.length < order + 1 || line.startsWith("\\")) {
                continue;
            }
            final String gram = String.join(" ", List.of(fields).subList(1, order + 1));
            grams.put(gram, fields.length > order + 1
                    ? new double[] { Double.parseDouble(fields[0]), Double.parseDouble(fields[order + 1]) }
                    : new double[] { Double.parseDouble(fields[0]) });
        }
        return grams;
    }
}
