package ai.sonia.pipecat.voice;

import java.util.Locale;
import java.util.Set;

/**
 * Whether words heard so far make a complete phrase, for endpointing: a phrase that ends in a word which needs
 * another after it (an article, a preposition, a conjunction, a possessive, an auxiliary) is mid-sentence.
 */
final class Phrases {

    private static final Set<String> NEEDS_MORE = Set.of(
            "a", "an", "the", "my", "your", "his", "her", "our", "their", "its", "to", "of", "for", "in", "on", "at",
            "by", "with", "from", "into", "about", "and", "or", "but", "so", "because", "if", "than", "as", "is",
            "are", "was", "were", "be", "am", "do", "does", "did", "have", "has", "had", "will", "would", "can",
            "could", "should", "shall", "may", "might", "must", "i", "not",
            "very", "what", "where", "when", "which", "who", "whose", "how", "why", "please", "um", "uh");

    private Phrases() {}

    /** True when {@code words} is not empty and its last word needs none after it. */
    static boolean complete(CharSequence words) {
        final String[] all = words.toString().toLowerCase(Locale.ROOT).strip().split("\\s+");
        final String last = all[all.length - 1].replaceAll("\\(\\d+\\)$", "");
        return !last.isEmpty() && !NEEDS_MORE.contains(last);
    }
}
