package ai.sonia.pipecat.voice;

import java.text.BreakIterator;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * What of a written reply is said aloud: the text without resource ids ({@code (memories/<id>)}), links,
 * markup or source lists, as sentences, and no more of them than a listener takes in at once (a long answer
 * is spoken as its first sentences; the full text stays in the MESSAGE event and the history). When the
 * reply quotes passages ({@code > ...} lines, as the extractive answer does), the passages are the answer
 * and are what is said; the framing around them is only written.
 */
final class SpokenReply {

    /** Sentences said at most, and the words after which no further sentence starts. */
    static final int MAX_SENTENCES = 3;
    static final int WORD_BUDGET = 30;

    private static final String RESOURCE = "[a-z][a-z_-]*/[A-Za-z0-9][A-Za-z0-9._~-]*(?:/[a-z][a-z_-]*/[A-Za-z0-9._~-]+)*";
    // (memories/abc), (sources: memories/a, memories/b), [memories/a]: references, not words.
    private static final Pattern REFERENCES = Pattern.compile(
            "\\s*[(\\[](?:(?:sources?|see|from|ref(?:erence)?s?)\\s*:?\\s*)?" + RESOURCE
            + "(?:\\s*[,;]\\s*(?:and\\s+)?" + RESOURCE + ")*[)\\]]", Pattern.CASE_INSENSITIVE);
    private static final Pattern BARE_RESOURCE = Pattern.compile("\\b(?:memories|sessions|tenants|users|tools)/"
                                                                 + "[A-Za-z0-9._~-]+");
    private static final Pattern CITATION = Pattern.compile("\\s*\\[\\d+(?:\\s*,\\s*\\d+)*]");
    private static final Pattern IMAGE = Pattern.compile("!\\[[^]]*]\\([^)]*\\)");
    private static final Pattern LINK = Pattern.compile("\\[([^]]+)]\\([^)]*\\)");
    private static final Pattern URL = Pattern.compile("\\s*<?\\bhttps?://\\S+?>?(?=[\\s),.;!?]*(?:\\s|$))");
    private static final Pattern EMPHASIS = Pattern.compile("(\\*\\*|__|\\*|`+|~~)");
    private static final Pattern UNDERSCORE_EMPHASIS = Pattern.compile("(?<![\\w])_([^_]+)_(?![\\w])");
    private static final Pattern HTML = Pattern.compile("</?[a-zA-Z][^>]*>");
    private static final Pattern LINE_MARK = Pattern.compile("^\\s*(?:#{1,6}\\s+|[-*+•]\\s+|\\d+[.)]\\s+)");
    private static final Pattern SOURCE_HEADING = Pattern.compile(
            "^\\s*(?:#+\\s*)?\\**(?:sources?|references?|citations?)\\**\\s*:?\\**\\s*$", Pattern.CASE_INSENSITIVE);
    private static final Pattern TABLE_RULE = Pattern.compile("^\\s*\\|?\\s*:?-{3,}.*$");

    /** The sentences to say for {@code reply}, in order; empty when nothing in it is sayable. */
    static List<String> of(String reply) {
        final List<String> prose = new ArrayList<>();
        final List<String> quoted = new ArrayList<>();
        boolean inCode = false;
        boolean inSources = false;
        for (String line : reply.split("\\R")) {
            if (line.strip().startsWith("```")) {
                inCode = !inCode;
                continue;
            }
            if (inCode || TABLE_RULE.matcher(line).matches()) {
                continue;
            }
            if (SOURCE_HEADING.matcher(line).matches()) {
                inSources = true;
                continue;
            }
            if (line.isBlank()) {
                inSources = false;
                continue;
            }
            if (inSources) {
                continue;
            }
            final boolean quote = line.stripLeading().startsWith(">");
            final String text = clean(quote ? line.stripLeading().replaceFirst("^>+\\s*", "") : line);
            if (text.isEmpty()) {
                continue;
            }
            // A line ends a sentence (a heading, a list item), whatever its last mark.
            (quote ? quoted : prose).addAll(sentences(endSentence(text)));
        }
        return summary(quoted.isEmpty() ? prose : quoted);
    }

    /** The text of one line without references, links, markup or list marks. */
    static String clean(String line) {
        String text = LINE_MARK.matcher(line).replaceFirst("");
        text = REFERENCES.matcher(text).replaceAll("");
        text = CITATION.matcher(text).replaceAll("");
        text = IMAGE.matcher(text).replaceAll("");
        text = LINK.matcher(text).replaceAll("$1");
        text = URL.matcher(text).replaceAll("");
        text = BARE_RESOURCE.matcher(text).replaceAll("");
        text = HTML.matcher(text).replaceAll("");
        text = EMPHASIS.matcher(text).replaceAll("");
        text = UNDERSCORE_EMPHASIS.matcher(text).replaceAll("$1");
        text = text.replace('|', ',').replaceAll("\\s+([,.;:!?])", "$1").replaceAll("\\(\\s*\\)", "");
        return text.replaceAll("\\s+", " ").strip().replaceAll("^[,;:]\\s*", "");
    }

    // A list item or heading without an end mark would run into the next line when spoken.
    private static String endSentence(String text) {
        return text.matches(".*[.!?:;]$") ? text : text + ".";
    }

    static List<String> sentences(String text) {
        final List<String> sentences = new ArrayList<>();
        final BreakIterator breaks = BreakIterator.getSentenceInstance(Locale.US);
        breaks.setText(text);
        int start = breaks.first();
        for (int end = breaks.next(); end != BreakIterator.DONE; start = end, end = breaks.next()) {
            final String sentence = text.substring(start, end).strip();
            if (!sentence.isEmpty() && sentence.chars().anyMatch(Character::isLetterOrDigit)) {
                sentences.add(sentence);
            }
        }
        return sentences;
    }

    // The first sentences, up to MAX_SENTENCES and WORD_BUDGET words (the first always, however long).
    private static List<String> summary(List<String> sentences) {
        final List<String> said = new ArrayList<>();
        int words = 0;
        for (String sentence : sentences) {
            if (!said.isEmpty() && (said.size() >= MAX_SENTENCES || words >= WORD_BUDGET)) {
                break;
            }
            said.add(sentence);
            words += sentence.split("\\s+").length;
        }
        return said;
    }

    private SpokenReply() {}
}
