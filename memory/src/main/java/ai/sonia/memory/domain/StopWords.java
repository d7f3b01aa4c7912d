package ai.sonia.memory.domain;

import java.util.Set;

/** Common English words that say little about which memory is meant. */
final class StopWords {

    private static final Set<String> WORDS = Set.of(
            "a", "about", "am", "an", "and", "any", "are", "as", "at", "be", "been", "but", "by", "can", "could",
            "did", "do", "does", "for", "from", "had", "has", "have", "how", "i", "if", "in", "into", "is", "it",
            "its", "me", "my", "of", "on", "or", "our", "should", "so", "that", "the", "their", "them", "there",
            "these", "they", "this", "to", "was", "we", "were", "what", "when", "where", "which", "who", "whom",
            "why", "will", "with", "would", "you", "your");

    private StopWords() {}

    static boolean contains(String word) {
        return WORDS.contains(word);
    }
}
